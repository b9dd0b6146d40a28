// The invitation link is /join#<token>: the fragment reaches no server
// log and no Referer. Copy it into the form, then drop it from the address
// bar and the history so that it does not linger on screen.
(function () {
  "use strict";
  var token = document.getElementById("token");
  var hash = window.location.hash;
  if (!token || hash.length < 2) {
    return;
  }
  token.value = decodeURIComponent(hash.slice(1));
  history.replaceState(null, "", window.location.pathname);
  var name = document.getElementById("name");
  if (name) {
    name.focus();
  }
})();

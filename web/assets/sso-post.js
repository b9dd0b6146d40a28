// A SAML identity provider that takes requests only by the HTTP-POST
// binding: post the page's form (the signed request) to it at once.
(function () {
  "use strict";
  var form = document.getElementById("sso-post");
  if (form) {
    form.submit();
  }
})();

// Security keys (WebAuthn) in the console (IAM-4). The page carries the
// options the server made in the form's data-options; a click asks the
// browser for the key, puts its answer (PublicKeyCredential.toJSON) in the
// form and submits it. No inline script: the CSP allows only this file.
(function () {
  "use strict";
  function bind(kind) {
    var form = document.getElementById("webauthn-" + kind + "-form");
    if (!form) {
      return;
    }
    var button = form.querySelector("button");
    var status = form.querySelector(".webauthn-status");
    button.addEventListener("click", function () {
      if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
        status.textContent = "This browser cannot use security keys.";
        return;
      }
      var options = JSON.parse(form.dataset.options);
      var asked = kind === "register"
        ? navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
        : navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      button.disabled = true;
      status.textContent = "Waiting for the security key…";
      asked.then(function (credential) {
        form.elements.response.value = JSON.stringify(credential.toJSON());
        form.submit();
      }).catch(function (err) {
        button.disabled = false;
        status.textContent = "The security key did not answer (" + err.name + "). Try again.";
      });
    });
  }
  bind("register");
  bind("login");
})();

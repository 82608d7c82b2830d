// Security keys and passkeys (WebAuthn): registration on the account page, the second step of sign-in.
// A form with data-webauthn="register" or "authenticate" is sent by this script: it asks the server for
// options (data-options-url), lets the browser talk to the key, and posts the key's answer to the form's
// action. Messages go to the form's [data-webauthn-status] region, which screen readers announce.
(function () {
  "use strict";

  function toBytes(value) {
    var text = value.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var binary = window.atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return window.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    json.challenge = toBytes(json.challenge);
    json.user.id = toBytes(json.user.id);
    (json.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return json;
  }

  function requestOptions(json) {
    if (window.PublicKeyCredential && PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    json.challenge = toBytes(json.challenge);
    (json.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return json;
  }

  function credentialJSON(credential) {
    if (typeof credential.toJSON === "function") { return credential.toJSON(); }
    var response = credential.response;
    var out = {id: credential.id, rawId: toText(credential.rawId), type: credential.type,
               clientExtensionResults: credential.getClientExtensionResults(), response: {
                 clientDataJSON: toText(response.clientDataJSON)}};
    if (response.attestationObject) {
      out.response.attestationObject = toText(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = toText(response.authenticatorData);
      out.response.signature = toText(response.signature);
      out.response.userHandle = response.userHandle ? toText(response.userHandle) : null;
    }
    return out;
  }

  function browserMessage(error, registering) {
    if (error && error.name === "InvalidStateError") {
      return "This security key is already registered to your account.";
    }
    if (error && error.name === "SecurityError") {
      return "Security keys work only at this site’s own address (" + window.location.origin +
        " is not it). Open the tracker at its usual address and try again.";
    }
    if (registering) {
      return "The security key was not added: the browser was cancelled or the key did not answer. " +
        "Press the button again and touch your key when it blinks.";
    }
    return "The security key did not sign you in: it is not registered to your account, or it did not " +
      "answer in time. Try again, or use a recovery code.";
  }

  function post(url, data) {
    return window.fetch(url, {method: "POST", body: data, credentials: "same-origin",
                              headers: {"Accept": "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return {error: "The server did not answer. Try again."}; });
      });
  }

  function setup(form) {
    var mode = form.getAttribute("data-webauthn");
    var status = form.querySelector("[data-webauthn-status]");
    var button = form.querySelector("button[type=submit]");
    var nameInput = form.querySelector("input[name=name]");
    var nameError = form.querySelector("[data-name-error]");

    function say(text, kind) {
      status.querySelector(".usa-alert__text").textContent = text;
      status.className = "usa-alert usa-alert--slim usa-alert--" + (kind || "error");
      status.setAttribute("role", kind === "error" || !kind ? "alert" : "status");
      status.hidden = !text;
    }

    function fieldError(text) {
      if (!nameInput || !nameError) { return; }
      nameError.textContent = text;
      nameError.hidden = !text;
      var group = nameInput.closest(".usa-form-group");
      if (group) { group.classList.toggle("usa-form-group--error", !!text); }
      nameInput.classList.toggle("usa-input--error", !!text);
      if (text) { nameInput.setAttribute("aria-invalid", "true"); nameInput.focus(); }
      else { nameInput.removeAttribute("aria-invalid"); }
    }

    if (!window.PublicKeyCredential) {
      say("This browser cannot use security keys. Use a current version of Chrome, Edge, Firefox or Safari.");
      button.disabled = true;
      return;
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var registering = mode === "register";
      if (registering) {
        nameInput.value = nameInput.value.trim();
        if (!nameInput.value) { fieldError("Give the key a name."); return; }
        fieldError("");
      }
      button.disabled = true;
      say("Follow your browser’s instructions: insert or touch your security key.", "info");
      var base = new FormData(form);
      var token = new FormData();
      token.append("csrf_token", base.get("csrf_token"));
      post(form.getAttribute("data-options-url"), token).then(function (options) {
        if (options.error) { throw {server: options.error}; }
        return registering
          ? navigator.credentials.create({publicKey: creationOptions(options)})
          : navigator.credentials.get({publicKey: requestOptions(options)});
      }).then(function (credential) {
        base.append("credential", JSON.stringify(credentialJSON(credential)));
        return post(form.action, base);
      }, function (error) {
        if (error && error.server) { throw error; }
        if (!registering) {
          // Tell the server, so that the attempt is in the audit trail like any other.
          var report = new FormData();
          report.append("csrf_token", base.get("csrf_token"));
          report.append("error", (error && error.name) || "Error");
          post(form.action, report);
        }
        throw {server: browserMessage(error, registering)};
      }).then(function (result) {
        if (result.redirect) {
          say(registering ? "The key is added." : "Signed in.", "success");
          window.location.assign(result.redirect);
          return;
        }
        if (result.field === "name") { fieldError(result.error); say(""); }
        else { say(result.error); }
        button.disabled = false;
      }).catch(function (error) {
        say((error && error.server) || browserMessage(error, registering));
        button.disabled = false;
      });
    });
  }

  document.querySelectorAll("form[data-webauthn]").forEach(setup);
})();

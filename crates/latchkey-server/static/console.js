// Latchkey console: the little the pages cannot do without a script.
//
// 1. Passkeys. WebAuthn is a browser API, so registering a passkey, proving one and signing
//    in with one call navigator.credentials.create()/get() with the options the REST API
//    gives, and send the answer back. The options carry binary fields as base64url text;
//    the browser wants ArrayBuffers, and its answer is turned back into base64url. Requests
//    of a signed-in page repeat the session's CSRF token (the form's `csrf` field) in
//    `X-CSRF-Token`, as every cookie-authenticated change to the REST API must.
// 2. Idle sign-out. A page of a session whose roles set an idle timeout says, in
//    `data-idle-seconds`, how long the server keeps it without a request. A minute before
//    the end a warning offers to stay signed in (a request, which counts as activity); at
//    the end the page signs out and the sign-in page says why.
//
// No framework, no dependency; everything else in the console works without this file.
"use strict";

(function () {
  // --- base64url <-> ArrayBuffer ---------------------------------------------------------
  function fromB64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "===".slice((b64.length + 3) % 4);
    const raw = atob(padded);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let raw = "";
    for (let i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The `publicKey` options of navigator.credentials.create(), binary fields decoded.
  function creationOptions(options) {
    const pk = Object.assign({}, options.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64url(pk.user.id) });
    pk.excludeCredentials = (pk.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: fromB64url(c.id) });
    });
    return pk;
  }

  // The `publicKey` options of navigator.credentials.get(), binary fields decoded.
  function requestOptions(options) {
    const pk = Object.assign({}, options.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.allowCredentials = (pk.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: fromB64url(c.id) });
    });
    return pk;
  }

  // A new credential as the server reads it.
  function registrationJson(cred) {
    const response = {
      attestationObject: toB64url(cred.response.attestationObject),
      clientDataJSON: toB64url(cred.response.clientDataJSON),
    };
    if (typeof cred.response.getTransports === "function") {
      response.transports = cred.response.getTransports();
    }
    return { id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, response: response, extensions: {} };
  }

  // An assertion as the server reads it.
  function assertionJson(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null,
      },
      extensions: {},
    };
  }

  // A failure the form shows: `field` names the input it belongs next to, when it does.
  class Failure extends Error {
    constructor(message, field) {
      super(message);
      this.field = field || "";
    }
  }

  // POSTs `body` as JSON; answers the parsed JSON (or null), throws a Failure with the
  // problem's message otherwise.
  async function post(url, body, csrf) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    const res = await fetch(url, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = null;
    }
    if (!res.ok) {
      const first = json && json.errors && json.errors[0];
      if (first) throw new Failure(first.message, first.field);
      throw new Failure((json && json.detail) || "the server refused (" + res.status + ")");
    }
    return json;
  }

  // What went wrong, placed next to its field (or above the form), read out by screen
  // readers.
  function showFailure(form, e) {
    let message = e && e.message ? e.message : String(e);
    if (e && e.name === "NotAllowedError") {
      message = "the passkey request was cancelled or timed out; try again";
    } else if (e && e.name === "InvalidStateError") {
      message = "this authenticator already holds a passkey for you here";
    }
    form.querySelectorAll(".js-error").forEach(function (el) {
      el.remove();
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
    const input = e && e.field ? form.querySelector('[name="' + e.field + '"]') : null;
    const p = document.createElement("p");
    p.className = "error js-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    if (input) {
      p.id = input.id + "-error";
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", p.id);
      input.insertAdjacentElement("afterend", p);
      input.focus();
    } else {
      form.prepend(p);
    }
  }

  // The session's CSRF token: the form's own field, else the page's (the sign-out form).
  function csrfOf(form) {
    const field = form.querySelector('input[name="csrf"]') || document.querySelector('input[name="csrf"]');
    return field ? field.value : "";
  }

  // Runs `work` on submit, with the button disabled meanwhile; failures show on the form.
  function onSubmit(selector, work) {
    document.querySelectorAll(selector).forEach(function (form) {
      const unsupported = form.querySelector(".webauthn-unsupported");
      if (!window.PublicKeyCredential) {
        if (unsupported) unsupported.hidden = false;
        return;
      }
      form.addEventListener("submit", async function (event) {
        event.preventDefault();
        const button = form.querySelector('button[type="submit"]');
        if (button) button.disabled = true;
        try {
          await work(form);
        } catch (e) {
          showFailure(form, e);
        } finally {
          if (button) button.disabled = false;
        }
      });
    });
  }

  // Register a passkey: the name first (checked again by the server), then the ceremony.
  onSubmit("form[data-passkey-register]", async function (form) {
    const csrf = csrfOf(form);
    const name = form.querySelector('[name="name"]').value.trim();
    if (!name) throw new Failure("give the passkey a name, such as the device it is on", "name");
    // Before the device creates anything: a credential the server then refuses would be
    // left on the device, registered nowhere.
    if (Array.from(name).length > 64) throw new Failure("a passkey's name has at most 64 characters", "name");
    const begun = await post("/api/v1/me/passkeys/register/begin", {}, csrf);
    const cred = await navigator.credentials.create({ publicKey: creationOptions(begun.options) });
    await post(
      "/api/v1/me/passkeys/register/finish",
      { ceremony: begun.ceremony, name: name, credential: registrationJson(cred) },
      csrf,
    );
    window.location.assign(form.dataset.next || "/account?done=passkey_added");
  });

  // Prove a passkey in this session (asked after a magic-link sign-in).
  onSubmit("form[data-passkey-verify]", async function (form) {
    const csrf = csrfOf(form);
    const begun = await post("/api/v1/me/passkeys/verify/begin", {}, csrf);
    const cred = await navigator.credentials.get({ publicKey: requestOptions(begun.options) });
    await post(
      "/api/v1/me/passkeys/verify/finish",
      { ceremony: begun.ceremony, credential: assertionJson(cred) },
      csrf,
    );
    window.location.assign("/");
  });

  // Sign in with a passkey: by user name, or discoverable when the field is empty. These
  // endpoints need no session, and take JSON only, which other sites cannot send here.
  onSubmit("form[data-passkey-sign-in]", async function (form) {
    const body = {};
    const user = form.querySelector('[name="user_name"]');
    const org = form.querySelector('[name="organisation"]');
    if (user && user.value.trim()) body.user_name = user.value.trim();
    if (org && org.value.trim()) body.organisation = org.value.trim();
    const begun = await post("/api/v1/auth/passkey/begin", body, "");
    const cred = await navigator.credentials.get({ publicKey: requestOptions(begun.options) });
    await post("/api/v1/auth/passkey/finish", { ceremony: begun.ceremony, credential: assertionJson(cred) }, "");
    window.location.assign("/");
  });

  // --- idle sign-out ------------------------------------------------------------------------
  const idle = document.getElementById("idle-warning");
  if (idle) {
    const seconds = Number(idle.dataset.idleSeconds);
    const signOut = document.getElementById("idle-sign-out");
    const stay = document.getElementById("idle-stay");
    let warnTimer = 0;
    let endTimer = 0;
    const schedule = function (left) {
      clearTimeout(warnTimer);
      clearTimeout(endTimer);
      idle.hidden = true;
      warnTimer = setTimeout(function () {
        idle.hidden = false;
        if (stay) stay.focus();
      }, Math.max(0, left - 60) * 1000);
      endTimer = setTimeout(function () {
        signOut.submit();
      }, left * 1000);
    };
    if (seconds > 0 && signOut) {
      schedule(seconds);
      if (stay) {
        stay.addEventListener("click", async function () {
          // Any request counts as activity; this one answers the time left.
          const body = new URLSearchParams({ csrf: csrfOf(signOut) });
          const res = await fetch("/session/keep-alive", {
            method: "POST",
            body: body,
            credentials: "same-origin",
            redirect: "manual",
          });
          const left = Number(res.headers.get("Latchkey-Idle-Seconds"));
          if (res.status === 204 && left > 0) {
            schedule(left);
          } else {
            signOut.submit();
          }
        });
      }
    }
  }
})();

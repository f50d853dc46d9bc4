// IdentityServer3's check session iframe (OpenID Connect Session Management 1.0 §3.2), as
// IdentityServer3's PageAssets/checksession.html computes it: the relying party posts
// "{client_id} {session_state}"; session_state is base64url(SHA-256(client_id + origin +
// session id + salt)) + "." + salt, and the session id is the script-readable
// `idsvr.session` cookie. The answer is "unchanged", "changed" or "error".
// IdentityServer3 hashes with jsrsasign; this page uses the browser's Web Crypto instead.
(function () {
    var cookieName = "idsvr.session";

    function browserSessionId() {
        var cookies = document.cookie.split(";");
        for (var i = 0; i < cookies.length; i++) {
            var parts = cookies[i].trim().split("=");
            if (parts.length === 2 && parts[0].trim() === cookieName && parts[1].trim()) {
                return parts[1].trim();
            }
        }
        return "";
    }

    function base64url(buffer) {
        var bytes = new Uint8Array(buffer);
        var text = "";
        for (var i = 0; i < bytes.length; i++) {
            text += String.fromCharCode(bytes[i]);
        }
        return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    }

    function sessionStateResult(origin, message) {
        if (!origin || typeof message !== "string") {
            return Promise.resolve("error");
        }
        var messageParts = message.split(" ");
        if (messageParts.length !== 2 || !messageParts[0] || !messageParts[1]) {
            return Promise.resolve("error");
        }
        var stateParts = messageParts[1].split(".");
        if (stateParts.length !== 2 || !stateParts[0] || !stateParts[1]) {
            return Promise.resolve("error");
        }
        if (!window.crypto || !window.crypto.subtle) {
            return Promise.resolve("error");
        }
        var input = messageParts[0] + origin + browserSessionId() + stateParts[1];
        return window.crypto.subtle
            .digest("SHA-256", new TextEncoder().encode(input))
            .then(function (hash) {
                return base64url(hash) === stateParts[0] ? "unchanged" : "changed";
            }, function () {
                return "error";
            });
    }

    if (window.parent !== window) {
        window.addEventListener("message", function (e) {
            var source = e.source;
            var origin = e.origin;
            sessionStateResult(origin, e.data).then(function (result) {
                source.postMessage(result, origin);
            });
        }, false);
    }
})();

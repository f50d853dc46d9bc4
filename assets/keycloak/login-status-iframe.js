var init;
function sessionCookie() {
  var m = document.cookie.match(/(?:^|;\s*)KEYCLOAK_SESSION=([^;]*)/);
  return m ? m[1].split("/").map(function (p) {
    try { return decodeURIComponent(p); } catch (e) { return p; }
  }) : null;
}
function checkState(clientId, origin, sessionState, callback) {
  var check = function () {
    if (clientId !== init.clientId || origin !== init.origin) {
      callback("error");
      return;
    }
    var cookie = sessionCookie();
    if (!cookie) {
      callback(sessionState ? "changed" : "unchanged");
    } else {
      callback(sessionState === cookie[2] ? "unchanged" : "changed");
    }
  };
  if (init) {
    check();
    return;
  }
  var req = new XMLHttpRequest();
  req.open("GET", location.href.split("?")[0] + "/init?client_id=" + encodeURIComponent(clientId)
    + "&origin=" + encodeURIComponent(origin), true);
  req.onreadystatechange = function () {
    if (req.readyState !== 4) return;
    if (req.status === 204) {
      init = { clientId: clientId, origin: origin };
      check();
    } else {
      callback("error");
    }
  };
  req.send();
}
window.addEventListener("message", function (event) {
  if (typeof event.data !== "string") return;
  var data = event.data.split(" ");
  if (data.length !== 2) return;
  checkState(data[0], event.origin, data[1], function (result) {
    event.source.postMessage(result, event.origin);
  });
}, false);

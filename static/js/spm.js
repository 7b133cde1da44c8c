/* SPM front-end glue: send Django's CSRF token with every same-origin htmx request.
 *
 * The CSRF cookie is HttpOnly, so the token comes from <meta name="csrf-token"> in base.html.
 * Both htmx 2 (htmx:configRequest) and htmx 4 (htmx:config:request) event shapes are handled so
 * an upgrade of the vendored htmx does not silently break every POST.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function sameOrigin(url) {
    try {
      return new URL(url, document.baseURI).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token && sameOrigin(event.detail.path)) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  document.addEventListener("htmx:config:request", function (event) {
    var request = event.detail && event.detail.ctx && event.detail.ctx.request;
    var token = csrfToken();
    if (request && token && sameOrigin(request.action)) {
      request.headers["X-CSRFToken"] = token;
    }
  });
})();

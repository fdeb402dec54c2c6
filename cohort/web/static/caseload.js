// File active: search-as-you-type. The typed text is POSTed in a JSON body (never in the
// URL), with the page's CSRF token; the answer is the results table, which replaces the
// current one. Without JavaScript the search form posts normally.
(function () {
  "use strict";
  var form = document.getElementById("recherche-file-active");
  var results = document.getElementById("file-active-resultats");
  if (!form || !results || !window.fetch) { return; }
  var input = form.querySelector("input[name=q]");
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var timer = null;
  var sent = 0;

  function body(page) {
    var data = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token") { data[name] = value; }
    });
    if (page) { data.page = page; }
    return JSON.stringify(data);
  }

  function search(page) {
    var mine = ++sent;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token,
                "Accept": "text/html"},
      body: body(page)
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      if (mine === sent) { results.innerHTML = html; }  // a later keystroke wins
    });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { search(null); }, 200);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var page = event.submitter && event.submitter.name === "page" ? event.submitter.value : null;
    clearTimeout(timer);
    search(page);
  });
})();

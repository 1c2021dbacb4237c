// Instant results: as the user types (or changes a filter), the search page asks the server for its results
// fragment (the same HTML the page shows without JavaScript) and swaps it in. The form still submits as a
// normal GET, which is also what happens when anything here fails.
// The fragment is parsed with DOMParser (scripts in it never run) and its nodes moved in: no string of page
// text is ever given to innerHTML here; the server has already escaped it.
"use strict";

(function () {
  const DEBOUNCE_MS = 300;
  const MIN_CHARS = 2;
  const form = document.querySelector("form[data-instant-search]");
  const results = document.querySelector("[data-search-results]");
  if (!form || !results) return;
  const status = form.querySelector("[data-search-status]");
  const input = form.querySelector("input[name=q]");
  let timer = 0;
  let inFlight = null;

  function pageUrl() {
    const params = new URLSearchParams(new FormData(form));
    for (const [name, value] of Array.from(params.entries())) {
      if (!value) params.delete(name); // keep the address short: no empty filters
    }
    return form.action + "?" + params.toString();
  }

  async function refresh() {
    const query = input.value.trim();
    if (query.length < MIN_CHARS) return;
    if (inFlight) inFlight.abort(); // only the newest answer is shown
    inFlight = new AbortController();
    const url = pageUrl();
    status.textContent = status.dataset.busy || "…";
    try {
      const response = await fetch(url + "&fragment=1", { signal: inFlight.signal });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const body = page.querySelector("[data-results]");
      if (!body) throw new Error("no results in the answer (" + response.status + ")");
      results.replaceChildren(body);
      const summary = body.querySelector("[data-summary]");
      status.textContent = summary ? summary.textContent.trim() : "";
      window.history.replaceState(null, "", url);
    } catch (error) {
      if (error.name === "AbortError") return;
      form.submit(); // let the server answer the normal way, errors included
    }
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, DEBOUNCE_MS);
  }

  input.addEventListener("input", later);
  form.querySelectorAll("select, input:not([name=q])").forEach(function (field) {
    field.addEventListener("change", later);
  });
})();

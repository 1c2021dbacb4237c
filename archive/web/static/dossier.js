// The dossier page without reloads: live progress while processing, and the page viewer (next/previous,
// zoom, rotate, keyboard). Everything here is an enhancement: without it the page refreshes itself while
// processing and the viewer's links open each page with a normal request.
// OCR text is untrusted: it is only ever put into the page with textContent, never as HTML.
"use strict";

(function () {
  const ZOOM_STEP = 1.25;
  const ZOOM_MIN = 0.5;
  const ZOOM_MAX = 4;

  function watchProgress() {
    const holder = document.querySelector("[data-status-url]");
    if (!holder) return;
    const bar = holder.querySelector("progress");
    const text = holder.querySelector("[data-progress-text]");
    const seconds = Number(holder.dataset.pollSeconds) || 3;
    async function poll() {
      try {
        const response = await fetch(holder.dataset.statusUrl, { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(String(response.status));
        const status = await response.json();
        bar.max = status.page_count;
        bar.value = status.pages_done;
        text.textContent = text.textContent.replace(/\d+\/\d+/, status.pages_done + "/" + status.page_count);
        if (status.status !== "processing" && status.status !== "assembling") {
          window.location.reload(); // findings, cover and downloads are ready: show them
          return;
        }
      } catch (error) {
        // A dropped connection on a field laptop: keep the last numbers and try again.
      }
      window.setTimeout(poll, seconds * 1000);
    }
    window.setTimeout(poll, seconds * 1000);
  }

  function setupViewer() {
    const viewer = document.getElementById("viewer");
    if (!viewer) return;
    const image = viewer.querySelector("[data-viewer-image]");
    const frame = viewer.querySelector("[data-viewer-frame]");
    const canvas = viewer.querySelector("[data-viewer-canvas]");
    const textBox = viewer.querySelector("[data-viewer-text]");
    const numberBox = viewer.querySelector("[data-viewer-number]");
    const sheetBox = viewer.querySelector("[data-viewer-sheet]");
    const prev = viewer.querySelector("[data-viewer-prev]");
    const next = viewer.querySelector("[data-viewer-next]");
    const pageCount = Number(viewer.dataset.pageCount);
    const query = viewer.dataset.query || "";
    const sheetLabel = sheetBox.dataset.label || "";
    let current = Number(viewer.dataset.page);
    let zoom = 1;
    let turn = 0;

    viewer.querySelectorAll("[hidden][data-viewer-action], [data-viewer-keys]").forEach(function (element) {
      element.hidden = false;
    });

    // The image is laid out at its turned size inside a canvas of that size, so the frame scrolls over
    // exactly the turned, zoomed page: zoom 1 fits the frame's width. Turns are transforms about the image's
    // top-left corner, with a translation that brings the turned image back into the canvas.
    const TURNS = {
      0: "",
      90: "rotate(90deg) translateY(-100%)",
      180: "rotate(180deg) translate(-100%, -100%)",
      270: "rotate(270deg) translateX(-100%)",
    };
    function applyView() {
      if (!image.naturalWidth) return; // laid out again once the image has loaded
      const sideways = turn % 180 !== 0;
      const ratio = image.naturalHeight / image.naturalWidth;
      const shownWidth = (frame.clientWidth - 2) * zoom;
      const width = sideways ? shownWidth / ratio : shownWidth;
      const height = width * ratio;
      canvas.style.width = (sideways ? height : width) + "px";
      canvas.style.height = (sideways ? width : height) + "px";
      image.style.width = width + "px";
      image.style.height = height + "px";
      image.style.transform = TURNS[turn];
    }
    frame.classList.add("laid-out");
    image.addEventListener("load", applyView);
    window.addEventListener("resize", applyView);
    applyView();

    function pageHref(number) {
      const url = new URL(viewer.dataset.pageHref, window.location.href);
      url.searchParams.set("page", String(number));
      if (query) url.searchParams.set("q", query);
      url.hash = "viewer";
      return url.toString();
    }

    function setLink(link, number) {
      const disabled = number < 1 || number > pageCount;
      link.href = pageHref(Math.min(Math.max(number, 1), pageCount));
      if (disabled) {
        link.setAttribute("aria-disabled", "true");
        link.tabIndex = -1;
      } else {
        link.removeAttribute("aria-disabled");
        link.removeAttribute("tabindex");
      }
    }

    function showText(text, marks) {
      // Plain text pieces and <mark> elements, all filled with textContent.
      const pieces = document.createDocumentFragment();
      let cursor = 0;
      marks.forEach(function (mark) {
        if (mark[0] > cursor) pieces.appendChild(document.createTextNode(text.slice(cursor, mark[0])));
        const marked = document.createElement("mark");
        marked.textContent = text.slice(mark[0], mark[1]);
        pieces.appendChild(marked);
        cursor = mark[1];
      });
      pieces.appendChild(document.createTextNode(text.slice(cursor)));
      textBox.replaceChildren(pieces);
    }

    function markCurrentTile(number) {
      document.querySelectorAll(".page-tile").forEach(function (tile) {
        const link = tile.querySelector("a");
        const isCurrent = tile.id === "page-" + number;
        tile.classList.toggle("current", isCurrent);
        if (isCurrent) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      });
    }

    async function go(number) {
      if (number < 1 || number > pageCount || number === current) return;
      const url = new URL(viewer.dataset.pageApi.replace(/\/0$/, "/" + number), window.location.href);
      if (query) url.searchParams.set("q", query);
      let page;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(String(response.status));
        page = await response.json();
      } catch (error) {
        window.location.href = pageHref(number); // let the server show the page, or its error
        return;
      }
      current = page.page;
      image.src = page.image;
      image.alt = image.alt.replace(/\d+/, String(page.page));
      numberBox.textContent = String(page.page);
      sheetBox.textContent = page.sheet_number ? "· " + sheetLabel + " " + page.sheet_number : "";
      showText(page.text, page.marks);
      setLink(prev, current - 1);
      setLink(next, current + 1);
      markCurrentTile(current);
      turn = 0;
      zoom = 1;
      applyView();
      window.history.replaceState(null, "", pageHref(current));
    }

    const actions = {
      "zoom-in": function () { zoom = Math.min(zoom * ZOOM_STEP, ZOOM_MAX); applyView(); },
      "zoom-out": function () { zoom = Math.max(zoom / ZOOM_STEP, ZOOM_MIN); applyView(); },
      rotate: function () { turn = (turn + 90) % 360; applyView(); },
      reset: function () { zoom = 1; turn = 0; applyView(); },
    };
    viewer.querySelectorAll("[data-viewer-action]").forEach(function (button) {
      button.addEventListener("click", actions[button.dataset.viewerAction]);
    });

    function follow(link, step) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        go(current + step);
      });
    }
    follow(prev, -1);
    follow(next, 1);

    // Opening a page from the grid or a finding keeps the reader on this page: the viewer changes in place.
    document.querySelectorAll(".page-tile a[data-page]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        go(Number(link.dataset.page)).then(function () {
          viewer.scrollIntoView({ block: "start" });
          viewer.focus({ preventScroll: true });
        });
      });
    });

    const keys = {
      ArrowLeft: function () { go(current - 1); },
      ArrowRight: function () { go(current + 1); },
      "+": actions["zoom-in"],
      "=": actions["zoom-in"],
      "-": actions["zoom-out"],
      r: actions.rotate,
      R: actions.rotate,
      "0": actions.reset,
    };
    document.addEventListener("keydown", function (event) {
      const target = event.target;
      const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
      if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
      // Inside the image or the text, arrows scroll what is zoomed or long, as anywhere else.
      const scrolling = target.closest && target.closest("[data-viewer-frame], [data-viewer-text]");
      if (scrolling && event.key.startsWith("Arrow")) return;
      const action = keys[event.key];
      if (!action) return;
      event.preventDefault();
      action();
    });
  }

  watchProgress();
  setupViewer();
})();

// The upload page with JavaScript: drop or pick many files, each sent to POST /api/v1/dossiers with its own
// progress bar (XMLHttpRequest reports upload progress, fetch does not), a few at a time, then followed
// through GET /api/v1/dossiers/<id> until its pages are read. Without JavaScript the form posts one file.
"use strict";

(function () {
  const PARALLEL_UPLOADS = 2;  // a field laptop on a shared line: two streams keep it busy without starving it
  const POLL_MS = 2000;
  const form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;

  const texts = JSON.parse(document.getElementById("upload-texts").textContent);
  const english = document.documentElement.lang === "en";
  const fileInput = document.getElementById("upload-file");
  const dropzone = document.getElementById("dropzone");
  const list = document.getElementById("upload-list");
  const rows = list.querySelector("tbody");
  const singleFile = form.querySelector(".single-file");
  const unitSelect = form.querySelector("select[name=unit]");
  const csrfToken = document.querySelector("meta[name=csrf-token]").content;
  const message = document.getElementById("upload-message");
  const submitButton = form.querySelector("button[type=submit]");
  const pending = [];  // rows waiting for an upload slot
  let active = 0;

  function say(key, values) {
    return texts[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
  }

  function sizeText(bytes) {
    if (bytes < 1048576) return say("size_kb", { size: Math.max(1, Math.round(bytes / 1024)) });
    return say("size_mb", { size: (bytes / 1048576).toFixed(1) });
  }

  // The same rule as `hoso watch` (ingest/watch.py): the stem up to "_", "148-QĐ-XPHC" -> "148/QĐ-XPHC".
  function caseNumberFromName(name) {
    const stem = name.normalize("NFC").replace(/\.[^.]*$/, "").split("_")[0].trim();
    const match = /^(\d+)-(.+)$/.exec(stem);
    return match ? match[1] + "/" + match[2] : stem;
  }

  // Progressive enhancement: many files, a drop zone, one case number per file in the list.
  fileInput.multiple = true;
  fileInput.required = false;
  singleFile.hidden = true;
  singleFile.querySelector("input").required = false;
  dropzone.classList.add("active");
  dropzone.querySelectorAll(".js-only").forEach((element) => { element.hidden = false; });

  function addFiles(files) {
    for (const file of files) rows.appendChild(makeRow(file));
    list.hidden = rows.children.length === 0;
    fileInput.value = "";
  }

  function makeRow(file) {
    const row = document.createElement("tr");
    row.file = file;
    const nameCell = row.insertCell();
    nameCell.className = "filename";
    nameCell.textContent = file.name + " · " + sizeText(file.size);

    const caseInput = document.createElement("input");
    caseInput.value = caseNumberFromName(file.name);
    caseInput.setAttribute("aria-label", say("case_label", { name: file.name }));
    row.insertCell().appendChild(caseInput);

    const progressCell = row.insertCell();
    const progress = document.createElement("progress");
    progress.max = 1;
    progress.value = 0;
    progress.setAttribute("aria-label", file.name);
    const status = document.createElement("div");
    status.className = "upload-status";
    status.setAttribute("role", "status");
    status.textContent = texts.waiting;
    progressCell.append(progress, status);

    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "link-dark";
    remove.textContent = "×";
    remove.setAttribute("aria-label", say("remove", { name: file.name }));
    remove.addEventListener("click", () => { row.remove(); list.hidden = rows.children.length === 0; });
    row.insertCell().appendChild(remove);
    Object.assign(row, { caseInput, progress, status, remove });
    return row;
  }

  function show(row, message, kind) {
    row.status.textContent = row.note ? row.note + " · " + message : message;
    row.className = kind || "";
  }

  function showRefusal(row, body, httpStatus) {
    const message = english ? body.detail : body.message_vi;
    const remedy = english ? "" : body.remedy_vi;
    show(row, message || say("server_error", { status: httpStatus }), "refused");
    if (remedy) {
      const hint = document.createElement("div");
      hint.textContent = remedy;
      row.status.appendChild(hint);
    }
    if (body.error) {
      const code = document.createElement("div");
      code.className = "code";
      code.textContent = body.error;
      row.status.appendChild(code);
    }
  }

  function linkTo(row, dossierId, label) {
    const link = document.createElement("a");
    link.href = form.dataset.dossier.replace("DOSSIER_ID", encodeURIComponent(dossierId));
    link.textContent = label;
    row.status.append(" · ", link);
  }

  function upload(row) {
    active += 1;
    const data = new FormData();
    data.append("file", row.file, row.file.name);
    data.append("case_number", row.caseInput.value.trim());
    data.append("unit", unitSelect.value);
    const request = new XMLHttpRequest();
    request.open("POST", form.dataset.api);
    request.setRequestHeader("X-CSRFToken", csrfToken);
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      row.progress.value = event.loaded / event.total;
      show(row, texts.uploading + " " + Math.floor((100 * event.loaded) / event.total) + "%", "uploading");
    };
    request.onload = () => {
      let body = {};
      try { body = JSON.parse(request.responseText); } catch (error) { body = {}; }
      if (request.status === 201 || request.status === 200) {
        row.progress.value = 0;
        row.progress.max = Math.max(body.page_count, 1);
        if (request.status === 200) row.note = texts.duplicate;  // an original already archived: its dossier
        show(row, texts.received, "processing");
        follow(row, body.dossier_id);
      } else {
        showRefusal(row, body, request.status);
        finished();
      }
      next();
    };
    request.onerror = () => {
      show(row, texts.network_error + " " + texts.network_remedy, "refused");
      finished();
      next();
    };
    request.send(data);
  }

  function follow(row, dossierId) {
    const poll = () => {
      fetch(form.dataset.api + "/" + encodeURIComponent(dossierId), { headers: { Accept: "application/json" } })
        .then((response) => {
          if (response.status >= 500) throw new Error(String(response.status));
          return response.json().then((body) => ({ ok: response.ok, status: response.status, body }));
        })
        .then(({ ok, status, body: state }) => {
          if (!ok) {
            showRefusal(row, state, status);
            finished();
            return;
          }
          row.progress.max = Math.max(state.page_count, 1);
          row.progress.value = state.pages_done;
          if (state.status === "processed") {
            const key = state.pages_failed ? "processed_failed_pages" : "processed";
            show(row, say(key, { total: state.page_count, failed: state.pages_failed }), "done");
            linkTo(row, dossierId, texts.open);
            finished();
          } else if (state.status === "failed") {
            show(row, texts.failed, "refused");
            linkTo(row, dossierId, texts.open);
            finished();
          } else {
            show(row, say("processing", { done: state.pages_done, total: state.page_count }), "processing");
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(() => window.setTimeout(poll, POLL_MS * 2));
    };
    poll();
  }

  function tell(text, kind) {
    message.textContent = text;
    message.className = "notice " + kind;
    message.hidden = false;
  }

  function finished() {
    const done = rows.querySelectorAll("tr.done, tr.refused").length;
    if (done < rows.children.length) return;
    submitButton.disabled = false;
    tell(say("all_done", { count: done }), "info");
  }

  function startUploads() {
    while (active < PARALLEL_UPLOADS && pending.length) upload(pending.shift());
  }

  function next() {
    active -= 1;
    startUploads();
  }

  fileInput.addEventListener("change", () => addFiles(fileInput.files));
  ["dragenter", "dragover"].forEach((name) => dropzone.addEventListener(name, (event) => {
    event.preventDefault();
    dropzone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => dropzone.addEventListener(name, () => dropzone.classList.remove("over")));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    addFiles(event.dataTransfer.files);
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const waiting = Array.from(rows.children).filter((row) => !row.className);
    if (!waiting.length) {
      tell(texts.no_files, "error");
      fileInput.focus();
      return;
    }
    const missing = waiting.find((row) => !row.caseInput.value.trim());
    if (missing) {
      tell(texts.missing_case, "error");
      missing.caseInput.focus();
      return;
    }
    message.hidden = true;
    submitButton.disabled = true;
    for (const row of waiting) {
      row.caseInput.readOnly = true;
      row.remove.hidden = true;
      row.className = "queued";
      pending.push(row);
    }
    startUploads();
  });
})();

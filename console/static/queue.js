// The live queue: fetch queue.json every few seconds and redraw the table (no page reload).
"use strict";

(function () {
  const status = document.getElementById("queue-status");
  const body = document.getElementById("queue-rows");
  const empty = document.getElementById("queue-empty");
  if (!status || !body) return;
  const source = status.dataset.source;
  const csrf = body.closest("table").dataset;
  let seconds = Number(status.dataset.pollSeconds) || 3;
  let known = new Set(Array.from(body.querySelectorAll("tr")).map((row) => row.dataset.callId));

  function cell(row, text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    if (text !== undefined) td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function tag(text, className) {
    const span = document.createElement("span");
    span.className = "tag " + className;
    span.textContent = text;
    return span;
  }

  function claimForm(item) {
    const form = document.createElement("form");
    form.method = "post";
    form.action = item.claim;
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = csrf.csrfField;
    token.value = csrf.csrfToken;
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "claim";
    button.textContent = "Claim";
    form.append(token, button);
    return form;
  }

  function taken(item) {
    const td = document.createElement("td");
    td.className = "taken";
    if (item.claimed_by) {
      const who = document.createElement("span");
      who.className = "claimed" + (item.mine ? " mine" : "");
      who.textContent = item.claimed_by;
      td.appendChild(who);
    } else {
      td.appendChild(claimForm(item));
    }
    return td;
  }

  function render(handoffs) {
    const rows = handoffs.map((item) => {
      const row = document.createElement("tr");
      row.dataset.callId = item.call_id;
      row.className = "kind-" + item.kind + (known.has(item.call_id) ? "" : " new");
      const who = cell(row);
      const link = document.createElement("a");
      link.href = item.link;
      link.textContent = item.caller;
      who.appendChild(link);
      if (item.vip) { who.appendChild(document.createTextNode(" ")); who.appendChild(tag("VIP", "vip")); }
      if (item.department) {
        const sub = document.createElement("div");
        sub.className = "sub";
        sub.textContent = item.department;
        who.appendChild(sub);
      }
      cell(row).appendChild(tag(item.label, "reason " + item.kind));
      cell(row, item.waiting, "waiting");
      cell(row, item.issue, "issue");
      cell(row, item.status + (item.agent ? " · " + item.agent : ""));
      row.appendChild(taken(item));
      return row;
    });
    body.replaceChildren(...rows);
    known = new Set(handoffs.map((item) => item.call_id));
    if (empty) empty.hidden = handoffs.length > 0;
  }

  async function poll() {
    try {
      const response = await fetch(source, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { window.location.reload(); return; }
      if (!response.ok) throw new Error("HTTP " + response.status);
      const data = await response.json();
      seconds = data.poll_seconds || seconds;
      render(data.handoffs);
      status.textContent = "live";
      status.classList.remove("stale");
    } catch (error) {
      status.textContent = "reconnecting…";
      status.classList.add("stale");
    }
    window.setTimeout(poll, seconds * 1000);
  }

  window.setTimeout(poll, seconds * 1000);
})();

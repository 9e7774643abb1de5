/* 企业自助平台: the few behaviours a kiosk page needs. No framework, no CDN.
   Every page also works without this file (forms post, progress pages refresh by <meta>). */
(function () {
  "use strict";
  var body = document.body;

  /* --- Login: swipe (or type) the card, then the on-screen PIN pad. ---------------------- */
  var cardInput = document.getElementById("card-input");
  var pinInput = document.getElementById("pin-input");
  var pad = document.getElementById("pinpad");
  var cardDisplay = document.getElementById("card-display");

  function panOf(raw) {
    // Track 2 (";PAN=YYMM...?") as the reader types it, or plain digits.
    var text = (raw || "").replace(/[\s-]/g, "");
    var m = /^;?(\d{12,19})[=D]/.exec(text);
    if (m) { return m[1]; }
    return /^\d{12,19}$/.test(text) ? text : "";
  }
  function masked(pan) { return pan.slice(0, 4) + " **** **** " + pan.slice(-4); }
  function openPad() {
    if (!pad) { return; }
    pad.hidden = false;
    var first = pad.querySelector(".key");
    if (first) { first.focus(); }
  }

  if (cardInput && pinInput && pad) {
    // The kiosk has no keyboard: the PIN only comes from the pad (no on-screen keyboard pops up).
    pinInput.readOnly = true;
    var swipe = document.getElementById("swipe-button");
    if (swipe) {
      swipe.addEventListener("click", function () {
        cardInput.value = "";
        cardInput.focus();
        if (cardDisplay) { cardDisplay.textContent = swipe.getAttribute("data-waiting") || ""; }
      });
    }
    cardInput.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault(); // the reader's Enter ends the swipe; it does not submit the form
      var pan = panOf(cardInput.value);
      if (!pan) {
        if (cardDisplay) { cardDisplay.textContent = cardInput.getAttribute("data-bad") || ""; }
        cardInput.value = "";
        return;
      }
      if (cardDisplay) { cardDisplay.textContent = masked(pan); }
      cardInput.classList.add("visually-hidden");
      openPad();
    });
    var pinButton = document.getElementById("pin-button");
    if (pinButton) { pinButton.addEventListener("click", openPad); }
    pad.addEventListener("click", function (event) {
      var key = event.target.closest("button");
      if (!key) { return; }
      if (key.hasAttribute("data-digit")) {
        if (pinInput.value.length < 6) { pinInput.value += key.getAttribute("data-digit"); }
      } else if (key.hasAttribute("data-back")) {
        pinInput.value = pinInput.value.slice(0, -1);
      } else if (key.hasAttribute("data-clear")) {
        pinInput.value = "";
      } else if (key.hasAttribute("data-ok")) {
        pad.hidden = true;
        var enter = document.getElementById("enter-button");
        if (enter) { enter.focus(); }
      }
    });
  }

  /* --- 撤消 / 补充入库 / 取消: ask first, in a <dialog> (no inline script: the CSP forbids it). --- */
  var dialog = document.getElementById("confirm-dialog");
  if (dialog && typeof dialog.showModal === "function") {
    var pending = null;
    var yes = document.getElementById("confirm-yes");
    var no = document.getElementById("confirm-no");
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute || !form.hasAttribute("data-confirm") || form.getAttribute("data-confirmed") === "1") {
        return;
      }
      event.preventDefault();
      pending = form;
      document.getElementById("confirm-dialog-text").textContent = form.getAttribute("data-confirm");
      yes.textContent = form.getAttribute("data-confirm-yes") || yes.textContent;
      no.textContent = form.getAttribute("data-confirm-no") || no.textContent;
      dialog.showModal();
      no.focus();
    });
    yes.addEventListener("click", function () {
      var form = pending;
      pending = null;
      dialog.close();
      if (form) { form.setAttribute("data-confirmed", "1"); form.submit(); }
    });
    no.addEventListener("click", function () { pending = null; dialog.close(); });
    dialog.addEventListener("cancel", function () { pending = null; });
  }

  /* --- Too many failed logins: count the wait down, then back to the login page. ---------- */
  var wait = document.querySelector("[data-wait-seconds]");
  if (wait) {
    var waitEnd = Date.now() + parseInt(wait.getAttribute("data-wait-seconds") || "0", 10) * 1000;
    var clocks = document.querySelectorAll("[data-wait-clock], [data-wait-seconds]");
    var waitTick = function () {
      var left = Math.max(0, Math.ceil((waitEnd - Date.now()) / 1000));
      var text = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      Array.prototype.forEach.call(clocks, function (node) { node.textContent = text; });
      if (left <= 0) { window.location.href = wait.getAttribute("data-wait-url"); return; }
      window.setTimeout(waitTick, 500);
    };
    waitTick();
  }

  /* --- 浏览: show the chosen file's name beside the button. ------------------------------ */
  Array.prototype.forEach.call(document.querySelectorAll("[data-file-input]"), function (input) {
    var shown = document.getElementById(input.id + "-name");
    input.addEventListener("change", function () {
      if (shown) { shown.textContent = input.files.length ? input.files[0].name : ""; }
    });
  });

  /* --- Idle logout: the server ends the session; the page shows the last 30 s. ------------- */
  var idle = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  var warn = parseInt(body.getAttribute("data-countdown-seconds") || "30", 10);
  var banner = document.getElementById("idle-countdown");
  if (idle > 0 && banner) {
    var value = banner.querySelector("[data-countdown-value]");
    var deadline = Date.now() + idle * 1000;
    var lastPing = Date.now();
    var pingUrl = body.getAttribute("data-ping-url");
    var ping = function () {
      lastPing = Date.now();
      fetch(pingUrl + "?t=" + lastPing, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (r.status === 204) { deadline = Date.now() + idle * 1000; banner.hidden = true; }
        else { window.location.href = body.getAttribute("data-timeout-url"); }
      });
    };
    // A tap or key on the page is the agent at work: tell the server (at most every 10 s).
    ["pointerdown", "keydown"].forEach(function (type) {
      document.addEventListener(type, function (event) {
        if (event.target.closest && event.target.closest("#idle-countdown")) { return; }
        if (Date.now() - lastPing > 10000) { ping(); }
      }, true);
    });
    var stay = banner.querySelector("[data-stay]");
    if (stay) { stay.addEventListener("click", ping); }
    var tick = function () {
      var left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) {
        var form = document.getElementById("logout-form");
        var reason = document.getElementById("logout-reason");
        if (reason) { reason.value = "idle"; }
        if (form) { form.submit(); } else { window.location.href = body.getAttribute("data-timeout-url"); }
        return;
      }
      if (left <= warn) { banner.hidden = false; value.textContent = String(left); }
      window.setTimeout(tick, 250);
    };
    tick();
  }

  /* --- 入库中: poll the status endpoint; reload once the worker has finished. ---------------- */
  var progress = document.querySelector("[data-status-url]");
  if (progress) {
    var url = progress.getAttribute("data-status-url");
    var bar = progress.querySelector("progress");
    var done = progress.querySelector("[data-rows-done]");
    var total = progress.querySelector("[data-rows-total]");
    var opening = progress.querySelector("[data-progress-opening]");
    var rows = progress.querySelector("[data-progress-rows]");
    var poll = function () {
      fetch(url + "?auto=1", { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (!r.ok) { window.location.href = window.location.pathname + "?auto=1"; return null; }
        return r.json();
      }).then(function (data) {
        if (!data) { return; }
        if (done) { done.textContent = data.rows_done; }
        if (total) { total.textContent = data.rows_total; }
        if (bar && data.rows_total && rows) { bar.max = data.rows_total; bar.value = data.rows_done; }
        // rows_total stays 0 while the worker decrypts the file and checks its signature.
        if (opening && rows && data.rows_total) { opening.hidden = true; rows.hidden = false; }
        if (!data.busy) { window.location.href = window.location.pathname + "?auto=1"; return; }
        window.setTimeout(poll, 1500);
      }).catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  }
  /* --- 核对清单核对: a 2-D scanner in keyboard mode types the QR into the focused field and ends
     with Enter, which submits the form; keep the field focused when the page opens. ------------- */
  var scannerField = document.querySelector("[data-scanner-field]");
  if (scannerField && !document.querySelector("dialog[open]")) { scannerField.focus(); }
})();

// Progressive: the pages work without this; it keeps the figures live by polling the same public API.
(function () {
  "use strict";
  const lang = document.documentElement.lang || "en";

  function money(minor, currency) {
    if (minor === null || minor === undefined) return "–";
    const format = new Intl.NumberFormat(lang, { style: "currency", currency: currency });
    const digits = format.resolvedOptions().maximumFractionDigits;
    return format.format(minor / Math.pow(10, digits));
  }

  function set(testid, text) {
    const el = document.querySelector('[data-testid="' + testid + '"]');
    if (el && el.textContent !== text) el.textContent = text;
  }

  const connector = document.querySelector("[data-connector-status-url]");
  if (connector) {
    const url = connector.getAttribute("data-connector-status-url");
    const labels = JSON.parse(connector.getAttribute("data-status-labels") || "{}");
    const initial = connector.getAttribute("data-status");
    setInterval(function () {
      fetch(url, { headers: { Accept: "application/json" } }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) return;
          set("connector-status", labels[body.status] || body.status);
          connector.className = "badge " + body.status;
          if (body.status !== initial) window.location.reload(); // what may be started has changed
        }).catch(function () {});
    }, 10000);
  }

  const session = document.querySelector("[data-session-api]");
  if (session) {
    const url = session.getAttribute("data-session-api");
    const started = new Date(session.getAttribute("data-started-at"));
    const status = session.getAttribute("data-status");
    // the receipt as the server rendered it; "settled": its invoice is final and the bank has answered
    const invoiceStatus = session.getAttribute("data-invoice-status") || "";
    const paymentStatus = session.getAttribute("data-payment-status") || "";
    const settled = session.getAttribute("data-settled") === "1";
    function tick() {
      const seconds = Math.max(0, Math.floor((Date.now() - started.getTime()) / 1000));
      const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
      if (status === "active") set("elapsed", (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0"));
    }
    function poll() {
      fetch(url, { headers: { Accept: "application/json" } }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) return;
          const changed = body.status !== status ||
            (body.receipt && (body.receipt.status !== invoiceStatus || body.receipt.payment_status !== paymentStatus));
          if (changed) {
            window.location.reload(); // pending -> active -> completed -> receipt -> paid, captured: the server renders each
            return;
          }
          if (body.energy_wh !== null) set("energy-kwh", (body.energy_wh / 1000).toLocaleString(lang, { minimumFractionDigits: 3, maximumFractionDigits: 3 }));
          set("cost-so-far", money(body.cost_so_far, body.currency));
        }).catch(function () {});
    }
    if (status === "active") setInterval(tick, 1000);
    if (status !== "cancelled" && !settled) setInterval(poll, 3000); // settled: nothing more to ask
    document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); }); // a phone waking up
  }

  const print = document.querySelector('[data-testid="print-button"]');
  if (print) print.addEventListener("click", function () { window.print(); });
})();

// ordergate operator UI: progressive enhancement only. Every page works
// without this script; with it the order desk looks products up as you
// type and Enter adds a line in place, and the review page links fields
// to their boxes on the page image.
(function () {
  "use strict";

  // ---- order desk ----
  function initDesk(form) {
    var customer = form.getAttribute("data-customer");
    var tbody = form.querySelector("#lines tbody");
    var list = document.getElementById("products");
    var found = {}; // sku (upper case) and gtin -> product

    function rows() { return tbody.querySelectorAll("tr.line"); }

    function renumber() {
      var rs = rows();
      for (var i = 0; i < rs.length; i++) {
        rs[i].querySelector(".no").textContent = String(i + 1);
        rs[i].querySelector(".remove").value = "remove-" + i;
      }
    }

    function blankRow() {
      var rs = rows();
      var tpl = rs[rs.length - 1];
      var row = tpl.cloneNode(true);
      row.className = "line";
      row.querySelectorAll("input").forEach(function (inp) { inp.value = ""; inp.removeAttribute("autofocus"); });
      row.querySelector(".qty").value = "1";
      row.querySelectorAll("select, .err").forEach(function (el) { el.remove(); });
      row.querySelector(".desc").textContent = "";
      row.querySelector(".price").textContent = "";
      row.querySelector(".amount").textContent = "";
      tbody.appendChild(row);
      renumber();
      return row;
    }

    function apply(row, p) {
      row.querySelector(".sku").value = p.sku;
      row.querySelector(".item").value = p.sku;
      row.querySelector(".desc").textContent = p.description;
      row.querySelector(".price").textContent = p.price ? p.price + " " + (p.currency || "") : "no price";
      var unit = row.querySelector(".unit");
      if (!unit.value) { unit.value = p.unit || ""; }
      row.querySelectorAll("select, .err").forEach(function (el) { el.remove(); });
    }

    function resolve(row) {
      var v = row.querySelector(".item").value.trim();
      var p = found[v.toUpperCase()];
      if (p) { apply(row, p); return; }
      if (row.querySelector(".sku").value.toUpperCase() !== v.toUpperCase()) {
        row.querySelector(".sku").value = "";
        row.querySelector(".desc").textContent = "";
        row.querySelector(".price").textContent = "";
      }
    }

    function lookup(row, q) {
      if (q.length < 2) { return; }
      fetch("/desk/products?customer=" + encodeURIComponent(customer) + "&q=" + encodeURIComponent(q),
        { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (ps) {
          list.textContent = "";
          ps.forEach(function (p) {
            found[p.sku.toUpperCase()] = p;
            if (p.gtin) { found[p.gtin] = p; }
            var o = document.createElement("option");
            o.value = p.sku;
            o.label = p.description + (p.price ? " · " + p.price + " " + (p.currency || "") : "");
            list.appendChild(o);
          });
          resolve(row);
        })
        .catch(function () { /* the server resolves on submit */ });
    }

    // One pending lookup per row, so that typing in the next row does not
    // cancel the lookup of the previous one.
    function search(row, q) {
      clearTimeout(row._lookup);
      row._lookup = setTimeout(function () { lookup(row, q); }, 150);
    }

    tbody.addEventListener("input", function (e) {
      if (e.target.classList.contains("item")) {
        var row = e.target.closest("tr");
        resolve(row);
        search(row, e.target.value.trim());
      }
    });
    tbody.addEventListener("change", function (e) {
      if (e.target.classList.contains("item")) { resolve(e.target.closest("tr")); }
    });

    // Enter in a line adds a line (or moves to the next one) instead of
    // posting the form; in the header fields it moves to the lines.
    form.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.isComposing || e.target.tagName === "TEXTAREA" || e.target.tagName === "BUTTON") { return; }
      var row = e.target.closest("tr.line");
      e.preventDefault();
      if (!row) {
        rows()[0].querySelector(".item").focus();
        return;
      }
      resolve(row);
      if (row._lookup && !row.querySelector(".sku").value) {
        clearTimeout(row._lookup);
        lookup(row, row.querySelector(".item").value.trim());
      }
      var rs = rows(), last = rs[rs.length - 1], next;
      if (row === last) {
        if (!row.querySelector(".item").value.trim()) { return; }
        next = blankRow();
      } else {
        next = row.nextElementSibling;
      }
      next.querySelector(".item").focus();
    });

    // Some input paths deliver Enter's keypress even after keydown was
    // handled; the keypress would submit the form (implicit submission).
    form.addEventListener("keypress", function (e) {
      if (e.key === "Enter" && e.target.tagName === "INPUT") { e.preventDefault(); }
    });
  }

  // ---- review ----
  function initReview(root) {
    function boxFor(id) { return root.querySelector('rect[data-field="' + id + '"]'); }
    root.addEventListener("focusin", function (e) {
      var b = boxFor(e.target.id);
      if (b) {
        b.classList.add("active");
        if (b.scrollIntoView) { b.scrollIntoView({ block: "nearest" }); }
      }
    });
    root.addEventListener("focusout", function (e) {
      var b = boxFor(e.target.id);
      if (b) { b.classList.remove("active"); }
    });
    root.addEventListener("click", function (e) {
      var f = e.target.getAttribute && e.target.getAttribute("data-field");
      if (f) {
        var inp = document.getElementById(f);
        if (inp) { inp.focus(); inp.select(); }
      }
    });
  }

  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    var desk = document.getElementById("desk");
    if (desk) { initDesk(desk); }
    var review = document.querySelector(".review");
    if (review) { initReview(review); }
  });
})();

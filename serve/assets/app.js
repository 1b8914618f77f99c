// policy-serve: the page works without this script (form + server-rendered
// results).  With it, results follow the query as it is typed (the server
// renders the same results block, ?partial=1, which is swapped in), and the
// query box suggests project names from /api/projects.
(function () {
  'use strict';
  var form = document.getElementById('search');
  var box = document.getElementById('q');
  var list = document.getElementById('projects');
  if (!form || !box || !window.fetch) return;
  var timer = null, pending = null, lastUrl = location.search;

  function query(extra) {
    var p = new URLSearchParams(new FormData(form));
    if (extra) Object.keys(extra).forEach(function (k) { p.set(k, extra[k]); });
    return p.toString();
  }

  function refresh() {
    var qs = query();
    if ('?' + qs === lastUrl) return;
    lastUrl = '?' + qs;
    if (pending) pending.abort();
    pending = new AbortController();
    fetch('/?' + query({partial: '1'}), {signal: pending.signal})
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var old = document.getElementById('results');
        var tpl = document.createElement('template');
        tpl.innerHTML = html;  // the server escaped every text it put in
        var fresh = tpl.content.getElementById('results');
        if (old && fresh) old.replaceWith(fresh);
        history.replaceState(null, '', '/?' + qs);
      })
      .catch(function () {});
  }

  // Project names for the word being typed: a suggestion replaces that word.
  function suggest() {
    var v = box.value, cut = v.lastIndexOf(' ') + 1, word = v.slice(cut);
    if (word.length < 1 || /[:"()]/.test(word)) { list.textContent = ''; return; }
    fetch('/api/projects?limit=8&q=' + encodeURIComponent(word))
      .then(function (r) { return r.ok ? r.json() : {projects: []}; })
      .then(function (data) {
        list.textContent = '';
        data.projects.forEach(function (p) {
          var o = document.createElement('option');
          o.value = v.slice(0, cut) + p.name;
          o.label = p.count + ' 段';
          list.appendChild(o);
        });
      })
      .catch(function () {});
  }

  box.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () { refresh(); suggest(); }, 250);
  });
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    clearTimeout(timer);
    lastUrl = '';
    refresh();
  });
})();

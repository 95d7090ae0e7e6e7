// ui.js - the placeholder page's one script: is this app answering?
const state = document.getElementById('state');
fetch('/healthz', { cache: 'no-store' })
  .then((r) => { state.textContent = r.ok ? 'Aplikasi aktif' : 'Aplikasi tidak menjawab'; })
  .catch(() => { state.textContent = 'Aplikasi tidak menjawab'; });

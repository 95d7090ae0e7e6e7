"""test_harness.py - the browser harness itself (kjbrowser.py): chromium
starts headless, a page is read and clicked, and a request to another host
is caught by other_hosts() and never reaches the network."""
import http.server
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kjbrowser  # noqa: E402

PAGE = b"""<!doctype html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>uji</title><script src="http://cdn.example.com/lib.js"></script></head>
<body><h1 id="judul">Beranda</h1><button id="b" onclick="document.getElementById('judul').textContent='Terkirim'">Kirim</button>
<img src="https://tracker.example.org/p.gif" alt=""></body></html>"""


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAGE if self.path == "/" else b""
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/"
    try:
        with kjbrowser.Browser(kjbrowser.PHONE) as b:
            b.get(url)
            assert b.text("#judul") == "Beranda"
            b.click("#b")
            b.wait_text("#judul", "Terkirim")
            w = b.js("return window.innerWidth")
            assert w == 360, f"phone width {w}"
            other = b.other_hosts()
            assert any("cdn.example.com" in u for u in other), other
            assert any("tracker.example.org" in u for u in other), other
            assert not any(u.startswith(url) for u in other), other
            assert url in b.requests()
            png = b.screenshot("harness")
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        srv.shutdown()
    print("browser harness: ok")


if __name__ == "__main__":
    main()

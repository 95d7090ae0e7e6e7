/* qr.c - kjh_qr_data_url (qr.h) with libqrencode. */
#include "qr.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

#ifdef KJH_HAVE_QRENCODE
#include <errno.h>
#include <qrencode.h>

kj_code kjh_qr_data_url(const char *text, char **out, kj_err *err) {
  *out = NULL;
  errno = 0;
  QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (!q)
    return errno == ENOMEM ? kj_fail(err, KJ_ENOMEM, "out of memory")
                           : kj_fail(err, KJ_EINVAL, "'%.60s' does not fit in a QR code", text);
  kj_buf b;
  kj_buf_init(&b, 1 << 20);
  int w = q->width, m = 4;
  kj_buf_addf(&b,
              "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 %d %d' "
              "shape-rendering='crispEdges'><rect width='100%%' height='100%%' fill='white'/>"
              "<path fill='black' d='",
              w + 2 * m, w + 2 * m);
  for (int y = 0; y < w; y++)
    for (int x = 0; x < w; x++)
      if (q->data[y * w + x] & 1)
        kj_buf_addf(&b, "M%d %dh1v1h-1z", x + m, y + m);
  kj_buf_addf(&b, "'/></svg>");
  QRcode_free(q);
  /* percent-encode what a data: URL may not hold as it is */
  kj_buf u;
  kj_buf_init(&u, 4 << 20);
  kj_buf_addf(&u, "data:image/svg+xml,");
  for (size_t i = 0; i < b.len; i++) {
    unsigned char ch = (unsigned char)b.data[i];
    if (ch == '<' || ch == '>' || ch == '#' || ch == '%' || ch == '"' || ch == ' ')
      kj_buf_addf(&u, "%%%02X", ch);
    else
      kj_buf_add(&u, (const char *)&ch, 1);
  }
  kj_buf_release(&b);
  *out = u.data ? strdup(kj_buf_str(&u)) : NULL;
  kj_buf_release(&u);
  return *out ? KJ_OK : kj_fail(err, KJ_ENOMEM, "out of memory");
}
#else
kj_code kjh_qr_data_url(const char *text, char **out, kj_err *err) {
  (void)text;
  *out = NULL;
  return kj_fail(err, KJ_EIO, "this build has no QR codes (libqrencode)");
}
#endif

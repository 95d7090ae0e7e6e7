/* qr.h - QR codes for the web apps (libqrencode): the office app's kiosk
 * address (client/ui_api.c) and the BKD's enrolment codes (server/dash.c). */
#ifndef KJH_QR_H
#define KJH_QR_H

#include "err.h"

/* text (UTF-8, up to a few hundred bytes) as a QR code (error correction
 * M, a quiet zone of 4 modules) drawn as an SVG image and returned as a
 * data: URL for an <img src>, in *out (malloc'd, the caller frees).
 * KJ_OK; KJ_EINVAL when text does not fit in a QR code; KJ_ENOMEM;
 * KJ_EIO when this build has no libqrencode (the Windows client). */
kj_code kjh_qr_data_url(const char *text, char **out, kj_err *err);

#endif

/* ui_int.h - inside the office app (client/ui_api.c): what its handler
 * files share.  ui_api.c owns the answers, the roster and the form writer;
 * ui_api_data.c serves the pages Penilaian Perilaku, Target Kinerja and
 * Impor & Ekspor through them (docs/architecture.md "The office app"). */
#ifndef KJC_UI_INT_H
#define KJC_UI_INT_H

#include <cjson/cJSON.h>

#include "date.h"
#include "http.h"
#include "session.h"
#include "store.h"
#include "ui_api.h"

/* The app's store (used under the app's mutex: only from a handler). */
kjc_store *kjc_ui_store(kjc_ui *ui);

/* Answer doc (taken: freed here) as JSON with status. */
void kjc_ui_reply(kjh_response *resp, int status, cJSON *doc);

/* Answer {"error": msg, "field": field}; field NULL: the field the rule's
 * message names ("field 'x': ..."), none when it names none. */
void kjc_ui_reply_err(kjh_response *resp, int status, const char *msg, const char *field);

/* {nip: name} of the office's roster, or of the people supervisor
 * supervises (*team, may be NULL, gets how many); the caller frees it. */
cJSON *kjc_ui_roster(kjc_store *s, const char *supervisor, int *team);

/* Copy the fields `names` of form body into c (a new record of its type,
 * author set by the caller), set its office and a new id, check it with
 * the command line's rules and write it with kjc_store_write; answers 200
 * {"id"} or 400 {"error", "errors": [{field, message}...]}. */
void kjc_ui_write_form(kjc_ui *ui, kj_change *c, const cJSON *body, const char *const *names,
                       kjh_response *resp);

/* The from/to filter of a list's query (dates YYYY-MM-DD, either may be
 * left out: that end is open) as the day range *range, for
 * kj_table_in_period (a dated record's date in it, a period overlapping
 * it); *any = 0 when both are left out.  0, or -1 with resp answered 400
 * naming the parameter when one is not a date. */
int kjc_ui_date_range(const kjh_request *req, kj_period *range, int *any, kjh_response *resp);

/* The routes of ui_api_data.c (signed-in requests; body: the JSON object
 * of a POST, CSRF already checked, else NULL): 1 when req was one of
 * them (resp answered), 0 when not. */
int kjc_ui_data_api(kjc_ui *ui, const kjh_session *ss, const kjh_request *req, const cJSON *body,
                    kjh_response *resp);

#endif

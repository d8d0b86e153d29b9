/* report: names and output of check results (checks.h declares the
 * functions: chk_name, chk_outcome_name, chk_failed, chk_report_failure,
 * chk_report_text, chk_report_json).
 *
 * JSON schema of `sshmountfs-tool check --json` (stable; fields are only
 * ever added): one array, always CHK_COUNT objects in this order:
 * reachable, known-host, login, cipher, commands, hardlink, folder.
 *
 *   [ { "check":    "reachable" | "known-host" | "login" | "cipher" |
 *                   "commands" | "hardlink" | "folder",
 *       "outcome":  "passed" | "failed" | "skipped" | "not-run",
 *       "reason":   "ok" when passed, "skipped" when skipped, "" when not
 *                   run, else the check's reason name (reason_names below),
 *       "message":  what was found or what failed, for people,
 *       "hint":     what to do ("" unless failed),
 *       "detail":   more lines for people ("" mostly),
 *       "warning":  a caveat of a passed check, for people ("" mostly; the
 *                   light plan's folder the login user cannot write),
 *       "seconds":  wall time of the check (0 when not run),
 *       "attempts": tries made (reachable; 0 for the others) }, ... ]
 *
 * Reason names per check:
 *   reachable  dns connection-refused timeout unreachable not-ssh no-banner
 *              internal ssh-config ssh-connect
 *   known-host unknown-host-key changed-host-key known-hosts-error
 *   login      denied passphrase-needed error
 *   cipher     no-common-cipher unsupported-cipher
 *   commands   missing-command command-failed no-shell exec-refused bad-option
 *   hardlink   no-hardlink-extension link-denied not-same-file setup-failed
 *   folder     not-a-directory not-writable not-searchable create-failed
 *              no-home no-sftp io
 */
#ifndef SSHMOUNTFS_CHECKS_REPORT_H
#define SSHMOUNTFS_CHECKS_REPORT_H

#include <stdio.h>

#include "checks.h"

/* Writes s as a JSON string (with quotes) to f. */
void chk_json_string(FILE *f, const char *s);

#endif

/*
 * mlops sync: drains an MLflow store's spool on demand. On a terminal it shows its progress
 * (writes sent and waiting, rate, time left) on stderr; then it sums up, and lists why the
 * server refused what it refused (kept in the spool, never retried).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"

#define STEP_MS 250u /* how often the progress line is redrawn */

typedef struct progress {
	uint64_t pending0, rejected0;  /* at the start */
	uint64_t pending, rejected;    /* now */
	double t0;
} progress;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Acknowledged by the server since the start (other processes may add rows meanwhile). */
static uint64_t sent(const progress *p)
{
	uint64_t gone = p->pending0 > p->pending ? p->pending0 - p->pending : 0;
	uint64_t refused = p->rejected - p->rejected0;

	return gone > refused ? gone - refused : 0;
}

static void show(const progress *p)
{
	double dt = now_s() - p->t0, rate = dt > 0 ? (double)sent(p) / dt : 0;
	char eta[32] = "-";

	if (rate > 0 && p->pending > 0) {
		double left = (double)p->pending / rate;
		snprintf(eta, sizeof eta, "%d:%02d", (int)(left / 60), (int)left % 60);
	}
	fprintf(stderr, "\r%" PRIu64 " sent, %" PRIu64 " waiting, %" PRIu64 " refused, %.0f/s, ETA %s   ",
		sent(p), p->pending, p->rejected - p->rejected0, rate, eta);
	fflush(stderr);
}

/*
 * The next line of mlops_store_rejected's report ("<count>\t<reason>\n"): *count, the reason
 * (len bytes at *reason); 0 at the end.
 */
static int next_reason(const char **at, long long *count, const char **reason, int *len)
{
	while (**at != '\0') {
		const char *line = *at, *tab = strchr(line, '\t');
		size_t n = strcspn(line, "\n");
		*at = line + n + (line[n] == '\n');
		if (tab != NULL && (size_t)(tab - line) < n) {
			*count = strtoll(line, NULL, 10);
			*reason = tab + 1;
			*len = (int)(n - (size_t)(tab - line) - 1);
			return 1;
		}
	}
	return 0;
}

static json_t *reasons_json(const char *report)
{
	json_t *a = json_array();
	const char *at = report ? report : "", *reason;
	long long count;
	int len;

	while (next_reason(&at, &count, &reason, &len))
		json_array_append_new(a, json_pack("{s:I, s:s%}", "count", (json_int_t)count, "reason", reason,
			(size_t)len));
	return a;
}

int cmd_sync(cli *c)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	size_t timeout = 60000;
	progress p = { 0 };
	char *report = NULL;
	mlops_store *s;
	int opt, rc, sync_rc;

	if (cli_wants_help(c->argc, c->argv)) {
		printf("usage: mlops sync [--timeout MS] [--json]   (send what waits in an MLflow store's spool)\n");
		return CLI_OK;
	}
	optind = 0;
	while ((opt = getopt_long(c->argc, c->argv, "t:j", opts, NULL)) != -1) {
		if (opt == 'j')
			c->json = 1;
		else if (opt != 't' || cli_parse_size(&timeout, optarg, "--timeout") != CLI_OK)
			return CLI_USAGE;
	}
	if (optind != c->argc || timeout > 86400000)
		return cli_usage_error("usage: mlops sync [--timeout MS] [--json]");
	if ((rc = cli_open_store_to_read(&s, c)) != CLI_OK)
		return rc;
	int tty = isatty(STDERR_FILENO);
	p.t0 = now_s();
	mlops_store_backlog(&p.pending0, &p.rejected0, s);
	p.pending = p.pending0;
	p.rejected = p.rejected0;
	/* In steps, to redraw the line between them; one wait for the whole time otherwise. */
	for (;;) {
		double left = (double)timeout - (now_s() - p.t0) * 1000;
		unsigned step = !tty ? (unsigned)timeout : left < STEP_MS ? (unsigned)(left > 0 ? left : 0) : STEP_MS;
		sync_rc = mlops_store_sync(s, step);
		mlops_store_backlog(&p.pending, &p.rejected, s);
		if (tty)
			show(&p);
		if (sync_rc == MLOPS_OK || !tty || left <= STEP_MS)
			break;
	}
	if (tty)
		fputc('\n', stderr);
	if (sync_rc < 0)
		cli_fail(sync_rc, "sync");
	if ((rc = mlops_store_rejected(&report, s)) < 0)
		cli_fail(rc, "sync: list the rejected writes");
	if (c->json) {
		cli_print_json(json_pack("{s:b, s:I, s:I, s:I, s:I, s:o}", "synced", sync_rc == MLOPS_OK,
			"sent", (json_int_t)sent(&p), "waiting", (json_int_t)p.pending,
			"pending", (json_int_t)p.pending, "rejected", (json_int_t)p.rejected,
			"rejected_reasons", reasons_json(report)));
	} else {
		printf("%s: %" PRIu64 " writes sent, %" PRIu64 " waiting, %" PRIu64 " refused by the server\n",
			sync_rc == MLOPS_OK ? "synced" : "not synced", sent(&p), p.pending, p.rejected);
		const char *at = report ? report : "", *reason;
		long long count;
		int len;
		while (next_reason(&at, &count, &reason, &len))
			printf("  %lld refused: %.*s\n", count, len, reason);
	}
	mlops_free(report);
	mlops_store_close(s);
	return sync_rc < 0 || rc < 0 ? CLI_FAILED : CLI_OK;
}

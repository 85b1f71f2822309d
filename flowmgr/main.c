/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-flowmgr: the flow manager daemon. Reads its INI configuration
 * (every setting also on the command line), opens the applications'
 * socket, connects to the driver, says READY to systemd, and runs the loop
 * until SIGINT/SIGTERM.
 *
 *   [flowmgr]
 *   name = s1
 *   runtime_dir = /run/sluice           ; flowmgr.sock is created here
 *   driver = /run/sluice/driver.sock    ; the driver's control socket
 *   ephemeral_ports = 49152-65535
 *   privileged_users = alice, bob       ; may take ports below 1024 (root always)
 *   admin_group = sluice                ; may use admin.ipc and events.ipc (root always)
 *   [interface]
 *   port = 0                            ; the driver's port index
 *   address = 10.77.1.2/24
 *   gateway = 10.77.1.1                 ; optional: the default route
 *   link_mbps = 0                       ; informative; the driver paces
 *   [routes]
 *   10.77.2.0/24 = 10.77.1.1            ; static routes: prefix = via
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>
#include <systemd/sd-daemon.h>

#include "flowmgr/fm.h"

static volatile int stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ip = ntohl(a.s_addr);
	return 0;
}

static int
parse_prefix(const char *s, uint32_t *ip, uint8_t *len)
{
	char buf[64], *slash, *end;
	unsigned long l;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	errno = 0;
	l = strtoul(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || l > 32)
		return -1;
	*len = (uint8_t)l;
	return parse_ip(buf, ip);
}

static int
parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || *end || end == s || *v > max ? -1 : 0;
}

static int
add_priv_users(struct fm_cfg *c, const char *list)
{
	char buf[512], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *u = strtok_r(buf, ", ", &save); u; u = strtok_r(NULL, ", ", &save)) {
		struct passwd *pw = getpwnam(u);

		if (!pw || c->n_priv_uids == FM_MAX_PRIV_USERS) {
			fprintf(stderr, "sluice-flowmgr: privileged_users: %s: %s\n", u,
			    pw ? "too many" : "no such user");
			return -1;
		}
		c->priv_uids[c->n_priv_uids++] = pw->pw_uid;
	}
	return 0;
}

static int
add_route(struct fm_cfg *c, const char *prefix, const char *via)
{
	if (c->n_routes == FM_MAX_ROUTES)
		return -1;
	if (parse_prefix(prefix, &c->routes[c->n_routes].prefix, &c->routes[c->n_routes].len) < 0 ||
	    parse_ip(via, &c->routes[c->n_routes].via) < 0)
		return -1;
	c->n_routes++;
	return 0;
}

static int
set_opt(struct fm_cfg *c, const char *section, const char *key, const char *val)
{
	unsigned long v, v2;

	if (strcmp(section, "routes") == 0)
		return add_route(c, key, val);
#define STR(k, field)                                                                          \
	if (strcmp(key, k) == 0)                                                               \
		return snprintf(c->field, sizeof(c->field), "%s", val) < (int)sizeof(c->field) \
			   ? 0                                                                 \
			   : -1;
	if (strcmp(section, "flowmgr") == 0) {
		STR("name", name)
		STR("runtime_dir", runtime_dir)
		STR("driver", driver)
		if (strcmp(key, "ephemeral_ports") == 0) {
			char lo[16], hi[16];

			if (sscanf(val, "%15[0-9]-%15[0-9]", lo, hi) != 2 ||
			    parse_num(lo, 65535, &v) < 0 || parse_num(hi, 65535, &v2) < 0 ||
			    v < 1024 || v2 < v)
				return -1;
			c->eph_lo = (uint16_t)v;
			c->eph_hi = (uint16_t)v2;
			return 0;
		}
		if (strcmp(key, "privileged_users") == 0)
			return add_priv_users(c, val);
		if (strcmp(key, "admin_group") == 0) {
			struct group *g = getgrnam(val);

			if (!g || snprintf(c->admin_group, sizeof(c->admin_group), "%s", val) >=
				      (int)sizeof(c->admin_group)) {
				fprintf(stderr, "sluice-flowmgr: admin_group: no group %s\n", val);
				return -1;
			}
			c->admin_gid = g->gr_gid;
			return 0;
		}
		if (strcmp(key, "grace_ms") == 0) {
			if (parse_num(val, 3600000, &v) < 0)
				return -1;
			c->grace_ms = (unsigned)v;
			return 0;
		}
		return -1;
	}
#undef STR
	if (strcmp(section, "interface") == 0) {
		if (strcmp(key, "port") == 0 && parse_num(val, 65535, &v) == 0) {
			c->port = (uint32_t)v;
			return 0;
		}
		if (strcmp(key, "address") == 0)
			return parse_prefix(val, &c->addr, &c->prefix_len);
		if (strcmp(key, "gateway") == 0)
			return parse_ip(val, &c->gateway);
		if (strcmp(key, "link_mbps") == 0 && parse_num(val, 10000000, &v) == 0) {
			c->link_mbps = v;
			return 0;
		}
		return -1;
	}
	return -1;
}

static int
ini_cb(void *user, const char *section, const char *key, const char *val)
{
	if (set_opt(user, section, key, val) < 0) {
		fprintf(stderr, "sluice-flowmgr: bad setting [%s] %s = %s\n", section, key, val);
		return 0;
	}
	return 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: sluice-flowmgr [-c FILE] [--check] [--name N] [--runtime-dir DIR]\n"
		   "         [--driver PATH] [--ephemeral-ports LO-HI] [--port N]\n"
		   "         [--address A.B.C.D/LEN] [--gateway A.B.C.D] [--link-mbps N]\n"
		   "         [--route PREFIX/LEN=VIA]... [--admin-group GROUP]\n");
}

static int
parse_args(struct fm_cfg *c, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"name", required_argument, NULL, 'n'},
	    {"runtime-dir", required_argument, NULL, 'r'},
	    {"driver", required_argument, NULL, 'd'},
	    {"ephemeral-ports", required_argument, NULL, 'e'},
	    {"port", required_argument, NULL, 'p'},
	    {"address", required_argument, NULL, 'a'},
	    {"gateway", required_argument, NULL, 'g'},
	    {"link-mbps", required_argument, NULL, 'l'},
	    {"route", required_argument, NULL, 'R'},
	    {"admin-group", required_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const keys[128][2] = {['n'] = {"flowmgr", "name"},
	    ['r'] = {"flowmgr", "runtime_dir"},
	    ['d'] = {"flowmgr", "driver"},
	    ['e'] = {"flowmgr", "ephemeral_ports"},
	    ['p'] = {"interface", "port"},
	    ['a'] = {"interface", "address"},
	    ['g'] = {"interface", "gateway"},
	    ['l'] = {"interface", "link_mbps"},
	    ['G'] = {"flowmgr", "admin_group"}};
	char config[4096] = "";
	int ch;

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			snprintf(config, sizeof(config), "%s", argv[i + 1]);
	if (config[0]) {
		int line = ini_parse(config, ini_cb, c);

		if (line != 0) {
			fprintf(stderr, "sluice-flowmgr: %s: %s %d\n", config,
			    line < 0 ? "cannot read" : "error on line", line);
			return -1;
		}
	}
	while ((ch = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			break;
		case 'k':
			c->check = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'R': {
			char buf[128], *eq;

			snprintf(buf, sizeof(buf), "%s", optarg);
			eq = strchr(buf, '=');
			if (!eq || (*eq = '\0', add_route(c, buf, eq + 1)) < 0) {
				fprintf(stderr, "sluice-flowmgr: bad --route %s\n", optarg);
				return -1;
			}
			break;
		}
		default:
			if (ch > 0 && ch < 128 && keys[ch][0]) {
				if (set_opt(c, keys[ch][0], keys[ch][1], optarg) < 0) {
					fprintf(stderr, "sluice-flowmgr: bad --%s %s\n",
					    keys[ch][1], optarg);
					return -1;
				}
				break;
			}
			usage(stderr);
			return -1;
		}
	}
	if (!c->addr) {
		fprintf(stderr, "sluice-flowmgr: no address configured ([interface] address = "
				"A.B.C.D/LEN or --address)\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct fm_cfg c = {.name = "fm0",
	    .runtime_dir = "/run/sluice",
	    .driver = "/run/sluice/driver.sock",
	    .eph_lo = 49152,
	    .eph_hi = 65535,
	    .grace_ms = 5000};
	struct sigaction sa = {.sa_handler = on_signal};
	struct fm *fm;
	int rc;

	if (parse_args(&c, argc, argv) < 0)
		return 1;
	if (c.check) {
		printf("sluice-flowmgr: configuration ok: %s, address %u.%u.%u.%u/%u, driver %s, "
		       "%u static routes, ephemeral ports %u-%u, admin group %s\n",
		    c.name, c.addr >> 24, (c.addr >> 16) & 255, (c.addr >> 8) & 255, c.addr & 255,
		    c.prefix_len, c.driver, c.n_routes, c.eph_lo, c.eph_hi,
		    c.admin_group[0] ? c.admin_group : "root");
		return 0;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fm = fm_create(&c);
	if (!fm) {
		fprintf(stderr, "sluice-flowmgr: %s\n", strerror(errno));
		return 1;
	}
	sd_notify(0, "READY=1");
	fprintf(stderr,
	    "sluice-flowmgr %s: serving %s/flowmgr.sock; admin.ipc and events.ipc for group %s\n",
	    c.name, c.runtime_dir, c.admin_group[0] ? c.admin_group : "root");
	rc = fm_run(fm, &stop);
	sd_notify(0, "STOPPING=1");
	fm_destroy(fm);
	return rc < 0 ? 1 : 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice-driver: the thin multiplexing driver daemon. Reads its INI
 * configuration (every setting also on the command line), starts DPDK's
 * EAL on the configured port, opens the control socket for the flow
 * manager, says READY to systemd, and runs the loop until SIGINT/SIGTERM.
 *
 *   [driver]
 *   name = drv0                  ; instance: DPDK file prefix, object names
 *   port = net_af_packet0,iface=veth0   ; a DPDK vdev, or a PCI address
 *   lcore = 0
 *   memory_mb = 256
 *   control = /run/sluice/driver.sock
 *   flowmgr_user = root
 *   events = ipc:///run/sluice/driver-events.ipc   ; counters every 100 ms; empty: off
 *   events_group = root          ; who may subscribe (the socket is 0660)
 *   max_flows = 1024
 *   idle_sleep_ms = 1
 *   busy_poll_us = 0             ; after work, poll this long before sleeping
 *   link_mbps = 0                ; pace transmission to this; 0: the port's rate
 *   max_period_ms = 1000         ; longest period a flow may ask for
 *   droplog = no
 *
 * A net_af_packet port gets 16 KB ring frames unless its devargs name their
 * own framesz (see port_devargs()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grp.h>
#include <ini.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <systemd/sd-daemon.h>

#include "driver/ctl.h"
#include "driver/drv.h"
#include "driver/events.h"

struct opts {
	char name[32];
	char port[256];
	char devargs[320];     /* port, completed with the defaults below */
	unsigned rx_mbuf_room; /* what the port needs of a receive mbuf; 0: the default */
	unsigned lcore;
	unsigned memory_mb;
	char control[PATH_MAX];
	char flowmgr_user[64];
	char events[PATH_MAX];
	char events_group[64];
	unsigned max_flows;
	unsigned idle_sleep_ms;
	unsigned busy_poll_us;
	unsigned link_mbps;
	unsigned max_period_ms;
	int droplog;
	int check;
	char config[PATH_MAX];
};

static volatile int stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
set_opt(struct opts *o, const char *key, const char *val)
{
	char *end;
	unsigned long v;

#define STR(field)                                                                             \
	if (strcmp(key, #field) == 0)                                                          \
		return snprintf(o->field, sizeof(o->field), "%s", val) < (int)sizeof(o->field) \
			   ? 0                                                                 \
			   : -1;
	STR(name)
	STR(port)
	STR(control)
	STR(flowmgr_user)
	STR(events)
	STR(events_group)
#undef STR
	if (strcmp(key, "droplog") == 0) {
		o->droplog =
		    strcmp(val, "yes") == 0 || strcmp(val, "1") == 0 || strcmp(val, "true") == 0;
		return 0;
	}
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || end == val || v > 1000000)
		return -1;
#define NUM(field)                      \
	if (strcmp(key, #field) == 0) { \
		o->field = (unsigned)v; \
		return 0;               \
	}
	NUM(lcore)
	NUM(memory_mb)
	NUM(max_flows)
	NUM(idle_sleep_ms)
	NUM(busy_poll_us)
	NUM(link_mbps)
	NUM(max_period_ms)
#undef NUM
	return -1;
}

/*
 * net_af_packet's ring frame, unless the port's devargs say framesz. DPDK
 * 22.11's PMD joins a PACKET_FANOUT group with PACKET_FANOUT_FLAG_DEFRAG, so
 * the kernel reassembles IPv4 fragments before the PMD reads them and hands
 * over whole datagrams larger than the MTU; its default 2 KB frame would cut
 * them at about 1980 bytes (and the demux drop them, BAD_IP_LEN). A 16 KB
 * frame, alone in a 16 KB block (an order-2 allocation in the kernel), holds
 * a frame of 16384 - 66 bytes (TPACKET_V2's header and alignment): datagrams
 * of up to 16304 bytes, the application stack's default max_dgram of UDP
 * payload nearly. The PMD's 512 frames each way then lock 16 MB per port.
 */
#define AF_PACKET_FRAMESZ 16384u

/* The value of KEY in a devargs string ("name,key=value,..."), or NULL. */
static const char *
devarg(const char *args, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = strchr(args, ','); p; p = strchr(p + 1, ','))
		if (strncmp(p + 1, key, n) == 0 && p[1 + n] == '=')
			return p + 2 + n;
	return NULL;
}

/*
 * Complete the port's devargs (o->devargs) and say how large its receive
 * mbufs must be (o->rx_mbuf_room). Only net_af_packet needs anything: it
 * copies each frame whole into one mbuf and refuses a receive queue whose
 * frames (framesz less 32 bytes of its own header) do not fit one.
 */
static int
port_devargs(struct opts *o)
{
	unsigned long framesz = AF_PACKET_FRAMESZ, page = (unsigned long)sysconf(_SC_PAGESIZE);
	const char *v;
	size_t len;

	snprintf(o->devargs, sizeof(o->devargs), "%s", o->port);
	o->rx_mbuf_room = 0;
	if (strncmp(o->port, "net_af_packet", 13) != 0 &&
	    strncmp(o->port, "eth_af_packet", 13) != 0)
		return 0;
	len = strlen(o->devargs);
	v = devarg(o->port, "framesz");
	if (v) {
		framesz = strtoul(v, NULL, 10);
	} else {
		len += (size_t)snprintf(
		    o->devargs + len, sizeof(o->devargs) - len, ",framesz=%lu", framesz);
	}
	/* The PMD's default block is a page; a frame may not straddle blocks. */
	if (!devarg(o->port, "blocksz") && framesz > page && len < sizeof(o->devargs))
		len += (size_t)snprintf(o->devargs + len, sizeof(o->devargs) - len, ",blocksz=%lu",
		    (framesz + page - 1) / page * page);
	if (len >= sizeof(o->devargs) || framesz == 0 ||
	    framesz + RTE_PKTMBUF_HEADROOM > UINT16_MAX) {
		fprintf(stderr,
		    "sluice-driver: port %s: framesz must be 1..%u, devargs < %zu bytes\n", o->port,
		    UINT16_MAX - RTE_PKTMBUF_HEADROOM, sizeof(o->devargs));
		return -1;
	}
	o->rx_mbuf_room = (unsigned)framesz + RTE_PKTMBUF_HEADROOM;
	return 0;
}

static int
ini_cb(void *user, const char *section, const char *key, const char *val)
{
	if (strcmp(section, "driver") != 0) {
		fprintf(stderr, "sluice-driver: unknown section [%s]\n", section);
		return 0;
	}
	if (set_opt(user, key, val) < 0) {
		fprintf(stderr, "sluice-driver: bad setting %s = %s\n", key, val);
		return 0;
	}
	return 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sluice-driver [-c FILE] [--check] [--name N] [--port DEVARGS] [--lcore N]\n"
	    "         [--memory-mb N] [--control PATH] [--flowmgr-user USER] [--max-flows N]\n"
	    "         [--idle-sleep-ms N] [--busy-poll-us N] [--link-mbps N] [--max-period-ms N]\n"
	    "         [--droplog]\n"
	    "         [--events ADDR] [--events-group GROUP]\n");
}

static int
parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"name", required_argument, NULL, 'n'},
	    {"port", required_argument, NULL, 'p'},
	    {"lcore", required_argument, NULL, 'l'},
	    {"memory-mb", required_argument, NULL, 'm'},
	    {"control", required_argument, NULL, 's'},
	    {"flowmgr-user", required_argument, NULL, 'u'},
	    {"max-flows", required_argument, NULL, 'f'},
	    {"idle-sleep-ms", required_argument, NULL, 'i'},
	    {"busy-poll-us", required_argument, NULL, 'b'},
	    {"link-mbps", required_argument, NULL, 'r'},
	    {"max-period-ms", required_argument, NULL, 'P'},
	    {"droplog", no_argument, NULL, 'd'},
	    {"events", required_argument, NULL, 'e'},
	    {"events-group", required_argument, NULL, 'g'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const keys[128] = {['n'] = "name",
	    ['p'] = "port",
	    ['l'] = "lcore",
	    ['m'] = "memory_mb",
	    ['s'] = "control",
	    ['u'] = "flowmgr_user",
	    ['f'] = "max_flows",
	    ['i'] = "idle_sleep_ms",
	    ['b'] = "busy_poll_us",
	    ['r'] = "link_mbps",
	    ['P'] = "max_period_ms",
	    ['e'] = "events",
	    ['g'] = "events_group"};
	int ch;

	/* The file first, then the command line overrides it. */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0)
			snprintf(o->config, sizeof(o->config), "%s", argv[i + 1]);
	if (o->config[0]) {
		int line = ini_parse(o->config, ini_cb, o);

		if (line != 0) {
			fprintf(stderr, "sluice-driver: %s: %s %d\n", o->config,
			    line < 0 ? "cannot read" : "error on line", line);
			return -1;
		}
	}
	while ((ch = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			break;
		case 'k':
			o->check = 1;
			break;
		case 'd':
			o->droplog = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			if (ch > 0 && ch < 128 && keys[ch]) {
				if (set_opt(o, keys[ch], optarg) < 0) {
					fprintf(stderr, "sluice-driver: bad --%s %s\n", keys[ch],
					    optarg);
					return -1;
				}
				break;
			}
			usage(stderr);
			return -1;
		}
	}
	if (!o->port[0]) {
		fprintf(stderr, "sluice-driver: no port configured (port = ... or --port)\n");
		return -1;
	}
	if (port_devargs(o) < 0)
		return -1;
	if (!getpwnam(o->flowmgr_user)) {
		fprintf(stderr, "sluice-driver: no user %s\n", o->flowmgr_user);
		return -1;
	}
	if (o->events_group[0] && !getgrnam(o->events_group)) {
		fprintf(stderr, "sluice-driver: no group %s\n", o->events_group);
		return -1;
	}
	if (o->events[0] && !strstr(o->events, "://")) {
		fprintf(stderr,
		    "sluice-driver: events = %s is not a nanomsg address (ipc://PATH)\n",
		    o->events);
		return -1;
	}
	return 0;
}

/* EAL arguments from the settings: no hugepages, our own file prefix. */
static int
eal_start(const struct opts *o)
{
	static char a[12][400];
	static char *argv[12];
	bool vdev = strncmp(o->port, "net_", 4) == 0;
	int n = 0;

#define ARG(...) (snprintf(a[n], sizeof(a[n]), __VA_ARGS__), argv[n] = a[n], n++)
	ARG("sluice-driver");
	ARG("-l%u", o->lcore);
	ARG("--no-huge");
	ARG("-m%u", o->memory_mb);
	ARG("--no-shconf");
	ARG("--file-prefix=sluice-%s", o->name);
	ARG("--log-level=notice");
	ARG("--no-telemetry");
	if (vdev) {
		ARG("--no-pci");
		ARG("--vdev=%s", o->devargs);
	} else {
		ARG("-a%s", o->devargs);
	}
#undef ARG
	return rte_eal_init(n, argv);
}

/* The control hook drv_run() calls between bursts and around sleeps. */
struct hooks {
	struct drv_ctl *ctl;
	struct drv_events *events;
};

static void
on_hook(void *arg)
{
	struct hooks *h = arg;

	drv_ctl_poll(h->ctl);
	drv_events_poll(h->events);
}

static int
mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = {.name = "drv0",
	    .memory_mb = 256,
	    .control = "/run/sluice/driver.sock",
	    .flowmgr_user = "root",
	    .max_flows = 1024,
	    .idle_sleep_ms = 1,
	    .max_period_ms = 1000};
	struct sigaction sa = {.sa_handler = on_signal};
	struct drv_cfg cfg = {0};
	struct hooks hooks = {0};
	struct drv_ctl *ctl;
	struct drv *d;
	uint16_t port;

	if (parse_args(&o, argc, argv) < 0)
		return 1;
	if (o.check) {
		printf(
		    "sluice-driver: configuration ok: name %s, port %s, control %s, flow manager "
		    "%s, %u flows, link %s%u Mbit/s, events %s\n",
		    o.name, o.devargs, o.control, o.flowmgr_user, o.max_flows,
		    o.link_mbps ? "" : "the port's rate, or ", o.link_mbps ? o.link_mbps : 10000,
		    o.events[0] ? o.events : "off");
		return 0;
	}
	if (eal_start(&o) < 0) {
		fprintf(stderr, "sluice-driver: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rte_eth_dev_count_avail() != 1) {
		fprintf(stderr, "sluice-driver: expected one port, found %u\n",
		    rte_eth_dev_count_avail());
		return 1;
	}
	RTE_ETH_FOREACH_DEV(port) break;
	cfg.port_id = port;
	cfg.max_flows = o.max_flows;
	cfg.idle_sleep_ms = o.idle_sleep_ms;
	cfg.busy_poll_us = o.busy_poll_us;
	cfg.link_bps = (uint64_t)o.link_mbps * 1000000u;
	cfg.max_period_ns = (uint64_t)o.max_period_ms * 1000000u;
	cfg.name = o.name;
	cfg.rx_mbuf_room = o.rx_mbuf_room;
	d = drv_create(&cfg);
	if (!d) {
		fprintf(stderr, "sluice-driver: port %s: %s\n", o.port, strerror(errno));
		return 1;
	}
	drv_droplog(d, o.droplog);
	if (mkdir_parent(o.control) < 0 ||
	    !(ctl = drv_ctl_open(d, o.control, getpwnam(o.flowmgr_user)->pw_uid))) {
		fprintf(
		    stderr, "sluice-driver: control socket %s: %s\n", o.control, strerror(errno));
		drv_destroy(d);
		return 1;
	}
	hooks.ctl = ctl;
	if (o.events[0]) {
		gid_t gid = o.events_group[0] ? getgrnam(o.events_group)->gr_gid : (gid_t)-1;
		bool ipc = strncmp(o.events, "ipc://", 6) == 0;

		if ((ipc && mkdir_parent(o.events + 6) < 0) ||
		    !(hooks.events = drv_events_open(d, o.events, gid))) {
			fprintf(
			    stderr, "sluice-driver: events %s: %s\n", o.events, strerror(errno));
			drv_ctl_close(ctl);
			drv_destroy(d);
			return 1;
		}
		drv_ctl_set_events(ctl, o.events);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sd_notify(0, "READY=1");
	fprintf(stderr, "sluice-driver %s: serving %s at %llu Mbit/s, control %s, events %s\n",
	    o.name, o.devargs, (unsigned long long)(drv_link_bps(d) / 1000000u), o.control,
	    o.events[0] ? o.events : "off");

	drv_run(d, &stop, on_hook, &hooks);

	sd_notify(0, "STOPPING=1");
	drv_events_close(hooks.events);
	drv_ctl_close(ctl);
	drv_destroy(d);
	unlink(o.control);
	rte_eal_cleanup();
	return 0;
}

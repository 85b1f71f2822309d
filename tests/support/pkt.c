/* SPDX-License-Identifier: BSD-3-Clause */
#include "tests/support/pkt.h"

#include <string.h>

#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/tcp.h"
#include "common/wire/udp.h"

struct pkt_spec
pkt_udp_default(void)
{
	struct pkt_spec s = {
	    .dst_mac = {0x02, 0, 0, 0, 0, 0x01},
	    .src_mac = {0x02, 0, 0, 0, 0, 0x02},
	    .src = PKT_IP4(10, 0, 0, 2),
	    .dst = PKT_IP4(10, 0, 0, 1),
	    .proto = IP4_PROTO_UDP,
	    .sport = 5000,
	    .dport = 7000,
	    .id = 1,
	    .payload_len = 18,
	};
	return s;
}

/* The transport checksum over the pseudo-header and the segment. */
static uint16_t
l4_csum(const struct ip4_hdr *ih, const uint8_t *l4, unsigned l4_len)
{
	uint8_t buf[12 + PKT_MAX];

	memcpy(buf, &ih->src, 4);
	memcpy(buf + 4, &ih->dst, 4);
	buf[8] = 0;
	buf[9] = ih->proto;
	buf[10] = (uint8_t)(l4_len >> 8);
	buf[11] = (uint8_t)l4_len;
	memcpy(buf + 12, l4, l4_len);
	return wire_inet_csum(buf, 12 + l4_len);
}

uint16_t
pkt_build(uint8_t *buf, const struct pkt_spec *s)
{
	struct eth_hdr *eh = (struct eth_hdr *)buf;
	struct ip4_hdr *ih = (struct ip4_hdr *)(buf + ETH_HDR_LEN);
	unsigned ihl = IP4_HDR_LEN + s->ip_opt_len;
	uint8_t *l4 = buf + ETH_HDR_LEN + ihl;
	unsigned l4_hdr = 0, l4_len;

	memset(buf, 0, PKT_MAX);
	memcpy(eh->dst.b, s->dst_mac, 6);
	memcpy(eh->src.b, s->src_mac, 6);
	eh->type = htons(s->ethertype ? s->ethertype : ETH_TYPE_IPV4);

	if (s->proto == IP4_PROTO_UDP)
		l4_hdr = UDP_HDR_LEN;
	else if (s->proto == IP4_PROTO_TCP)
		l4_hdr = TCP_HDR_LEN + s->tcp_opt_len;
	l4_len = l4_hdr + s->payload_len;

	ih->ver_ihl = (uint8_t)(IP4_VERSION << 4 | ihl / 4);
	ih->tot_len = htons((uint16_t)(ihl + l4_len));
	ih->id = htons(s->id);
	ih->frag_off = htons(s->frag_off);
	ih->ttl = 64;
	ih->proto = s->proto;
	ih->src = s->src;
	ih->dst = s->dst;
	memset((uint8_t *)ih + IP4_HDR_LEN, 1 /* NOP */, s->ip_opt_len);

	for (unsigned i = 0; i < s->payload_len; i++)
		l4[l4_hdr + i] = (uint8_t)i;
	if (s->proto == IP4_PROTO_UDP) {
		struct udp_hdr *uh = (struct udp_hdr *)l4;

		uh->src_port = htons(s->sport);
		uh->dst_port = htons(s->dport);
		uh->len = htons((uint16_t)l4_len);
		uh->csum = l4_csum(ih, l4, l4_len);
	} else if (s->proto == IP4_PROTO_TCP) {
		struct tcp_hdr *th = (struct tcp_hdr *)l4;

		th->src_port = htons(s->sport);
		th->dst_port = htons(s->dport);
		th->seq = htonl(1000);
		th->data_off = (uint8_t)((l4_hdr / 4) << 4);
		th->flags = s->tcp_flags;
		th->window = htons(65535);
		memset(l4 + TCP_HDR_LEN, 1 /* NOP */, s->tcp_opt_len);
		th->csum = l4_csum(ih, l4, l4_len);
	}
	pkt_fix_ip_csum(buf);
	return (uint16_t)(ETH_HDR_LEN + ihl + l4_len);
}

void
pkt_fix_ip_csum(uint8_t *frame)
{
	struct ip4_hdr *ih = (struct ip4_hdr *)(frame + ETH_HDR_LEN);

	ih->csum = wire_ip4_csum(ih);
}

unsigned
pkt_fragment(const uint8_t *frame, uint16_t len, unsigned frag_payload, uint8_t (*out)[PKT_MAX],
    uint16_t lens[], unsigned max)
{
	const struct ip4_hdr *ih = (const struct ip4_hdr *)(frame + ETH_HDR_LEN);
	unsigned hdr = ETH_HDR_LEN + wire_ip4_hdr_len(ih);
	unsigned payload = len - hdr, n = 0;

	for (unsigned off = 0; off < payload && n < max; off += frag_payload, n++) {
		unsigned chunk = payload - off < frag_payload ? payload - off : frag_payload;
		struct ip4_hdr *fh = (struct ip4_hdr *)(out[n] + ETH_HDR_LEN);
		uint16_t fo = (uint16_t)(off / 8);

		memcpy(out[n], frame, hdr);
		memcpy(out[n] + hdr, frame + hdr + off, chunk);
		if (off + chunk < payload)
			fo |= IP4_FLAG_MF;
		fh->frag_off = htons(fo);
		fh->tot_len = htons((uint16_t)(hdr - ETH_HDR_LEN + chunk));
		pkt_fix_ip_csum(out[n]);
		lens[n] = (uint16_t)(hdr + chunk);
	}
	return n;
}

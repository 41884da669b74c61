// SPDX-License-Identifier: MIT
/* libfastpath_xdp.so - what is impractical from C#: loading the BPF object (ELF relocation, BTF,
 * map creation: libbpf), attaching it to an interface, and the bpf(2) map updates. Everything
 * else of AF_XDP (socket, UMEM, rings, bind, kick, poll) is in C#
 * (src/FastPath.Dataplane/Interop/Xsk.cs, Io/AfXdpIo.cs).
 *
 * Plain libbpf, not libxdp's xdp_program__attach: libxdp's multi-program dispatcher needs bpffs
 * pinning and a dispatcher program of its own; FastPath owns its interfaces and wants exactly one
 * program whose verdict decides what the kernel sees. It attaches through a BPF link
 * (bpf_link_create(BPF_XDP), kernel >= 5.9): creation fails with EBUSY if any program is already
 * attached (never silently replacing someone else's), nobody else can replace or remove it
 * (`ip link set dev X xdp off` gets EBUSY), and it goes away when the link fd is closed: also
 * when the process dies, and whatever network namespace the closing thread is in (a netlink
 * detach would act on the ifindex in the *caller's* namespace).
 *
 * Every function returns 0 or a negative errno and, on failure, writes a one-line reason into
 * err (the C# side turns it into the fallback reason). Not thread-safe per handle; one handle per
 * interface. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "fastpath_xdp.h"

#define FP_EXPORT __attribute__((visibility("default")))

enum { FP_MODE_AUTO = 0, FP_MODE_NATIVE = 1, FP_MODE_GENERIC = 2 };

struct fp_xdp {
	struct bpf_object *obj;
	int ifindex;
	int prog_fd;
	int mode;        /* FP_MODE_NATIVE or FP_MODE_GENERIC once attached */
	int link_fd;
	int xsks_fd, ports_fd, verdicts_fd;
	int ncpus;
};

static void say(char *err, size_t len, const char *fmt, ...)
{
	if (!err || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level; (void)fmt; (void)ap;
	return 0;   /* errors come back as errno + our message, not on stderr */
}

FP_EXPORT int fp_xdp_version(void) { return 1; }

FP_EXPORT void fp_xdp_detach(struct fp_xdp *h);

/* Opens and loads obj_path, attaches its "fastpath_xdp" program to ifindex. mode: 0 native with
 * fallback to generic (skb) mode, 1 native only, 2 generic only. */
FP_EXPORT int fp_xdp_attach(const char *obj_path, int ifindex, int mode, struct fp_xdp **out, char *err, size_t errlen)
{
	int rc;
	if (!obj_path || !out || ifindex <= 0 || mode < 0 || mode > 2) {
		say(err, errlen, "bad arguments");
		return -EINVAL;
	}
	*out = NULL;
	libbpf_set_print(quiet_print);
	struct fp_xdp *h = calloc(1, sizeof(*h));
	if (!h) {
		say(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->ifindex = ifindex;
	h->prog_fd = h->link_fd = h->xsks_fd = h->ports_fd = h->verdicts_fd = -1;

	h->obj = bpf_object__open_file(obj_path, NULL);
	rc = -errno;
	if (!h->obj || libbpf_get_error(h->obj)) {
		h->obj = NULL;
		say(err, errlen, "cannot open BPF object %s: %s", obj_path, strerror(-rc));
		goto fail;
	}
	rc = bpf_object__load(h->obj);
	if (rc) {
		say(err, errlen, "cannot load BPF object %s: %s (needs CAP_BPF/CAP_NET_ADMIN)", obj_path, strerror(-rc));
		goto fail;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(h->obj, "fastpath_xdp");
	if (!prog) {
		rc = -ENOENT;
		say(err, errlen, "no program fastpath_xdp in %s", obj_path);
		goto fail;
	}
	h->prog_fd = bpf_program__fd(prog);
	h->xsks_fd = bpf_object__find_map_fd_by_name(h->obj, "xsks_map");
	h->ports_fd = bpf_object__find_map_fd_by_name(h->obj, "pass_ports");
	h->verdicts_fd = bpf_object__find_map_fd_by_name(h->obj, "verdicts");
	if (h->xsks_fd < 0 || h->ports_fd < 0 || h->verdicts_fd < 0) {
		rc = -ENOENT;
		say(err, errlen, "maps xsks_map/pass_ports/verdicts missing in %s", obj_path);
		goto fail;
	}
	h->ncpus = libbpf_num_possible_cpus();
	if (h->ncpus <= 0) {
		rc = h->ncpus ? h->ncpus : -EINVAL;
		say(err, errlen, "libbpf_num_possible_cpus: %s", strerror(-rc));
		goto fail;
	}

	int native_rc = 0;
	if (mode != FP_MODE_GENERIC) {
		LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
		h->link_fd = bpf_link_create(h->prog_fd, ifindex, BPF_XDP, &opts);
		if (h->link_fd >= 0) {
			h->mode = FP_MODE_NATIVE;
			*out = h;
			return 0;
		}
		rc = native_rc = -errno;
		if (rc == -EBUSY || rc == -EEXIST || mode == FP_MODE_NATIVE) {
			say(err, errlen, "attach XDP (native) to ifindex %d: %s%s", ifindex, strerror(-rc),
			    rc == -EBUSY || rc == -EEXIST ? " (another XDP program is attached)" : "");
			goto fail;
		}
	}
	LIBBPF_OPTS(bpf_link_create_opts, gopts, .flags = XDP_FLAGS_SKB_MODE);
	h->link_fd = bpf_link_create(h->prog_fd, ifindex, BPF_XDP, &gopts);
	if (h->link_fd >= 0) {
		h->mode = FP_MODE_GENERIC;
		*out = h;
		return 0;
	}
	rc = -errno;
	if (mode == FP_MODE_AUTO)
		say(err, errlen, "attach XDP to ifindex %d: native: %s; generic: %s", ifindex, strerror(-native_rc), strerror(-rc));
	else
		say(err, errlen, "attach XDP (generic) to ifindex %d: %s", ifindex, strerror(-rc));
fail:
	if (h->obj)
		bpf_object__close(h->obj);
	free(h);
	return rc ? rc : -EINVAL;
}

FP_EXPORT int fp_xdp_mode(const struct fp_xdp *h) { return h ? h->mode : -EINVAL; }
FP_EXPORT int fp_xdp_xsks_map_fd(const struct fp_xdp *h) { return h ? h->xsks_fd : -EINVAL; }

/* xsks_map[queue] = xsk_fd: from now on the program redirects queue's frames to that socket. */
FP_EXPORT int fp_xdp_set_xsk(struct fp_xdp *h, unsigned int queue, int xsk_fd)
{
	if (!h || queue >= FP_XDP_MAX_QUEUES)
		return -EINVAL;
	return bpf_map_update_elem(h->xsks_fd, &queue, &xsk_fd, BPF_ANY) ? -errno : 0;
}

FP_EXPORT int fp_xdp_clear_xsk(struct fp_xdp *h, unsigned int queue)
{
	if (!h || queue >= FP_XDP_MAX_QUEUES)
		return -EINVAL;
	return bpf_map_delete_elem(h->xsks_fd, &queue) && errno != ENOENT ? -errno : 0;
}

/* Frames with IP protocol proto (6 TCP, 17 UDP) to dport are passed to the kernel. */
FP_EXPORT int fp_xdp_add_pass_port(struct fp_xdp *h, unsigned int proto, unsigned int port)
{
	if (!h || (proto != 6 && proto != 17) || port > 0xFFFF)
		return -EINVAL;
	unsigned int key = FP_XDP_PORT_KEY(proto, port);
	unsigned char one = 1;
	return bpf_map_update_elem(h->ports_fd, &key, &one, BPF_ANY) ? -errno : 0;
}

/* out[slot] = the verdict counter summed over CPUs, for min(n, FP_XDP_VERDICT_SLOTS) slots. */
FP_EXPORT int fp_xdp_read_verdicts(struct fp_xdp *h, unsigned long long *out, int n)
{
	if (!h || !out || n <= 0)
		return -EINVAL;
	unsigned long long per_cpu[h->ncpus];
	int slots = n < FP_XDP_VERDICT_SLOTS ? n : FP_XDP_VERDICT_SLOTS;
	for (unsigned int slot = 0; slot < (unsigned int)slots; slot++) {
		if (bpf_map_lookup_elem(h->verdicts_fd, &slot, per_cpu))
			return -errno;
		unsigned long long sum = 0;
		for (int c = 0; c < h->ncpus; c++)
			sum += per_cpu[c];
		out[slot] = sum;
	}
	return slots;
}

/* Detaches the program (closes the link) and frees everything. Safe from any thread/namespace. */
FP_EXPORT void fp_xdp_detach(struct fp_xdp *h)
{
	if (!h)
		return;
	if (h->link_fd >= 0)
		close(h->link_fd);   /* detaches: the link is the only reference to the attachment */
	if (h->obj)
		bpf_object__close(h->obj);
	free(h);
}

// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fw.c - the testbed's secure world: EL3 firmware for QEMU virt,secure=on.
 *
 * It is PSCI for the normal world and, more to the point, enough of an
 * OP-TEE OS (SMC ABI, message protocol, a few trusted applications) that
 * Debian's unmodified optee.ko probes with dynamic shared memory, and it
 * keeps the authoritative table of shared memory registered with it.  Every
 * registration, unregistration and session is logged on the secure UART in
 * machine-readable "TSW ..." lines (README.md); the table lives in secure
 * RAM, so after a normal-world kexec the next kernel's probe reveals what
 * the previous one left registered.
 *
 * Runs with the MMU off: normal-world memory is read by physical address
 * (QEMU models no caches), strictly aligned or byte-wise.
 */
#include "fw.h"

/* ------------------------------------------------------------ state */

struct reg {
	u64 cookie;
	u64 size;
	u32 offset;		/* of the data in the first page */
	u32 npages;
	u32 boot;		/* normal-world boot that registered it */
	u8 used;
	u8 stale_reported;
	u64 pages[FW_MAX_PAGES];
};

struct session {
	u32 id;
	u32 ta;			/* enum ta_kind */
	u32 boot;
	u8 used;
};

enum ta_kind { TA_NONE, TA_DEVENUM, TA_RNG, TA_TEST };

static struct reg regs[FW_MAX_REGS];
static struct session sessions[FW_MAX_SESSIONS];
static u32 boot_n;		/* normal-world kernels that probed */
static u32 next_session;
static u32 live_count;
static u8 shm_cache_on;
static u64 rng_state;
static u32 reg_capacity;	/* set at cold boot */
static u32 unregs_this_boot;	/* UNREGISTER_SHM calls since the probe */

/* ------------------------------------------------------------- libc */

void *memset(void *d, int c, unsigned long n)
{
	volatile u8 *p = d;

	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	volatile u8 *dp = d;
	const volatile u8 *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

static int bytes_eq(const u8 *a, const u8 *b, unsigned long n)
{
	while (n--)
		if (*a++ != *b++)
			return 0;
	return 1;
}

/* ---------------------------------------------------- normal-world memory */

static inline u64 nw_rd64(u64 pa)
{
	return *(volatile u64 *)pa;	/* pa 8-aligned */
}

static inline void nw_wr64(u64 pa, u64 v)
{
	*(volatile u64 *)pa = v;
}

static inline u32 nw_rd32(u64 pa)
{
	return *(volatile u32 *)pa;
}

static inline void nw_wr32(u64 pa, u32 v)
{
	*(volatile u32 *)pa = v;
}

static int nw_ok(u64 pa, u64 len)
{
	return pa >= NW_RAM_BASE && len <= NW_RAM_SIZE &&
	       pa - NW_RAM_BASE <= NW_RAM_SIZE - len;
}

/* ---------------------------------------------------------------- log */

static void log_uuid(const u8 *u)
{
	static const char hex[] = "0123456789abcdef";
	char b[37];
	int i, j = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			b[j++] = '-';
		b[j++] = hex[u[i] >> 4];
		b[j++] = hex[u[i] & 15];
	}
	b[j] = '\0';
	uart_puts(b);
}

/* ------------------------------------------------------------ registry */

static struct reg *reg_find(u64 cookie)
{
	int i;

	for (i = 0; i < FW_MAX_REGS; i++)
		if (regs[i].used && regs[i].cookie == cookie &&
		    regs[i].boot == boot_n)
			return &regs[i];
	return NULL;
}

static u32 regs_in_use(void)
{
	u32 i, n = 0;

	for (i = 0; i < FW_MAX_REGS; i++)
		n += regs[i].used;
	return n;
}

static void dump_table(const char *why)
{
	int i;

	logf("TSW table why=%s count=%u capacity=%u\n", why, regs_in_use(),
	     reg_capacity);
	for (i = 0; i < FW_MAX_REGS; i++)
		if (regs[i].used)
			logf("TSW live cookie=0x%lx size=%lu pages=%u boot=%u\n",
			     regs[i].cookie, regs[i].size, regs[i].npages,
			     regs[i].boot);
}

/* A new normal-world kernel probes: report what earlier ones left behind. */
static void new_boot(void)
{
	u32 i, n = 0;

	boot_n++;
	shm_cache_on = 0;
	for (i = 0; i < FW_MAX_SESSIONS; i++)
		sessions[i].used = 0;	/* sessions die with their kernel */
	for (i = 0; i < FW_MAX_REGS; i++)
		if (regs[i].used && !regs[i].stale_reported)
			n++;
	logf("TSW boot n=%u\n", boot_n);
	if (boot_n > 1) {
		logf("TSW stale boot=%u count=%u\n", boot_n - 1, n);
		for (i = 0; i < FW_MAX_REGS; i++) {
			if (!regs[i].used || regs[i].stale_reported)
				continue;
			regs[i].stale_reported = 1;
			logf("TSW stale cookie=0x%lx size=%lu pages=%u from=%u\n",
			     regs[i].cookie, regs[i].size, regs[i].npages,
			     regs[i].boot);
		}
	}
	live_count = 0;
	unregs_this_boot = 0;
}

/* Physical address of byte off of a registration, or 0. */
static u64 reg_pa(const struct reg *r, u64 off)
{
	u64 o = off + r->offset;
	u64 idx = o / FW_PAGE;

	if (idx >= r->npages)
		return 0;
	return r->pages[idx] + (o % FW_PAGE);
}

/* ------------------------------------------------------ message params */

struct mref {
	u64 pa;			/* contiguous: TMEM */
	const struct reg *reg;	/* registered: RMEM */
	u64 offs;
	u64 size;
	u64 param_pa;		/* where the param lives, to update size */
	u32 type;
};

static int mref_get(u64 ppa, struct mref *m)
{
	u64 attr = nw_rd64(ppa);
	u32 type = attr & MSG_ATTR_TYPE_MASK;

	memset(m, 0, sizeof(*m));
	m->type = type;
	m->param_pa = ppa;
	if (type >= MSG_ATTR_TMEM_INPUT && type <= MSG_ATTR_TMEM_INOUT) {
		m->pa = nw_rd64(ppa + 8);
		m->size = nw_rd64(ppa + 16);
		if (m->pa && !nw_ok(m->pa, m->size))
			return -1;
		return 0;
	}
	if (type >= MSG_ATTR_RMEM_INPUT && type <= MSG_ATTR_RMEM_INOUT) {
		m->offs = nw_rd64(ppa + 8);
		m->size = nw_rd64(ppa + 16);
		m->reg = reg_find(nw_rd64(ppa + 24));
		if (!m->reg || m->offs + m->size > m->reg->size)
			return -1;
		return 0;
	}
	return -1;
}

static u64 mref_pa(const struct mref *m, u64 i)
{
	return m->reg ? reg_pa(m->reg, m->offs + i) : m->pa + i;
}

/* a NULL memref (MEMREF_NULL): no buffer, whatever its size */
static int mref_null(const struct mref *m)
{
	return !m->reg && !m->pa;
}

static u8 mref_rd8(const struct mref *m, u64 i)
{
	return *(volatile u8 *)mref_pa(m, i);
}

static void mref_wr8(const struct mref *m, u64 i, u8 v)
{
	*(volatile u8 *)mref_pa(m, i) = v;
}

static void mref_set_size(const struct mref *m, u64 size)
{
	nw_wr64(m->param_pa + 16, size);
}

static u64 param_pa(u64 arg, u32 i)
{
	return arg + MSG_ARG_HDR + (u64)i * MSG_PARAM_SIZE;
}

static void value_set(u64 ppa, u64 a, u64 b, u64 c)
{
	nw_wr64(ppa + 8, a);
	nw_wr64(ppa + 16, b);
	nw_wr64(ppa + 24, c);
}

/* ------------------------------------------------------------------- TAs */

static const u8 uuid_devenum[16] = {
	0x70, 0x11, 0xa6, 0x88, 0xdd, 0xde, 0x40, 0x53,
	0xa5, 0xa9, 0x7b, 0x3c, 0x4d, 0xdf, 0x13, 0xb8 };
static const u8 uuid_rng[16] = {
	0xab, 0x7a, 0x61, 0x7c, 0xb8, 0xe7, 0x4d, 0x8f,
	0x83, 0x01, 0xd0, 0x9b, 0x61, 0x03, 0x6b, 0x64 };
static const u8 uuid_test[16] = {	/* 5ee5b0d1-7e5e-4c0a-9a5e-7465657368a1 */
	0x5e, 0xe5, 0xb0, 0xd1, 0x7e, 0x5e, 0x4c, 0x0a,
	0x9a, 0x5e, 0x74, 0x65, 0x65, 0x73, 0x68, 0xa1 };

static u64 rng_next(void)
{
	u64 x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Device enumeration pseudo TA: PTA_CMD_GET_DEVICES(_SUPP) */
static u32 ta_devenum(u32 cmd, u64 arg, u32 np)
{
	struct mref m;
	u64 i;

	if (cmd != 0 && cmd != 1)	/* GET_DEVICES, GET_DEVICES_SUPP */
		return TEEC_ERROR_NOT_SUPPORTED;
	if (np < 1 || mref_get(param_pa(arg, 0), &m))
		return TEEC_ERROR_BAD_PARAMETERS;
	/* only devices that do not need tee-supplicant: the RNG */
	if (cmd == 1) {
		mref_set_size(&m, 0);
		return TEEC_SUCCESS;
	}
	if (m.size < 16 || mref_null(&m)) {
		mref_set_size(&m, 16);
		return TEEC_ERROR_SHORT_BUFFER;
	}
	for (i = 0; i < 16; i++)
		mref_wr8(&m, i, uuid_rng[i]);
	mref_set_size(&m, 16);
	return TEEC_SUCCESS;
}

/* RNG TA: TA_CMD_GET_ENTROPY (0), TA_CMD_GET_RNG_INFO (1) */
static u32 ta_rng(u32 cmd, u64 arg, u32 np)
{
	struct mref m;
	u64 i, r = 0;

	if (np < 1)
		return TEEC_ERROR_BAD_PARAMETERS;
	if (cmd == 1) {
		value_set(param_pa(arg, 0), 1024 * 1024, 900, 0);
		return TEEC_SUCCESS;
	}
	if (cmd != 0)
		return TEEC_ERROR_NOT_SUPPORTED;
	if (mref_get(param_pa(arg, 0), &m) || mref_null(&m))
		return TEEC_ERROR_BAD_PARAMETERS;
	for (i = 0; i < m.size; i++) {
		if (!(i & 7))
			r = rng_next();
		mref_wr8(&m, i, (u8)r);
		r >>= 8;
	}
	return TEEC_SUCCESS;
}

/*
 * Test TA for user-space clients (README.md):
 *  cmd 0: param0 memref in, param1 memref out: out[i] = in[i] + 1
 *  cmd 1: param0 value in (a, b), param1 value out: a = a + b
 *  cmd 2: no params: dump the registration table to the log
 *         ("TSW table why=mark ..."), a sync point for the testbed
 */
static u32 ta_test(u32 cmd, u64 arg, u32 np)
{
	struct mref in, out;
	u64 i, a, b;

	if (cmd == 0) {
		if (np < 2 || mref_get(param_pa(arg, 0), &in) ||
		    mref_get(param_pa(arg, 1), &out) ||
		    (mref_null(&in) && in.size))
			return TEEC_ERROR_BAD_PARAMETERS;
		if (out.size < in.size || (mref_null(&out) && in.size)) {
			mref_set_size(&out, in.size);
			return TEEC_ERROR_SHORT_BUFFER;
		}
		for (i = 0; i < in.size; i++)
			mref_wr8(&out, i, mref_rd8(&in, i) + 1);
		mref_set_size(&out, in.size);
		return TEEC_SUCCESS;
	}
	if (cmd == 1) {
		if (np < 2)
			return TEEC_ERROR_BAD_PARAMETERS;
		a = nw_rd64(param_pa(arg, 0) + 8);
		b = nw_rd64(param_pa(arg, 0) + 16);
		value_set(param_pa(arg, 1), a + b, 0, 0);
		return TEEC_SUCCESS;
	}
	if (cmd == 2) {
		dump_table("mark");
		return TEEC_SUCCESS;
	}
	return TEEC_ERROR_NOT_SUPPORTED;
}

/* ------------------------------------------------------------ messages */

static struct session *session_find(u32 id)
{
	int i;

	for (i = 0; i < FW_MAX_SESSIONS; i++)
		if (sessions[i].used && sessions[i].id == id &&
		    sessions[i].boot == boot_n)
			return &sessions[i];
	return NULL;
}

static void msg_open_session(u64 arg, u32 np)
{
	u8 uuid[16];
	u64 p0 = param_pa(arg, 0);
	u32 ta = TA_NONE, i, ret = TEEC_SUCCESS;
	struct session *s = NULL;

	if (np < 2 || !(nw_rd64(p0) & MSG_ATTR_META)) {
		nw_wr32(arg + MSG_ARG_RET, TEEC_ERROR_BAD_PARAMETERS);
		nw_wr32(arg + MSG_ARG_RET_ORIGIN, TEEC_ORIGIN_TEE);
		return;
	}
	for (i = 0; i < 16; i++)
		uuid[i] = *(volatile u8 *)(p0 + 8 + i);
	if (bytes_eq(uuid, uuid_devenum, 16))
		ta = TA_DEVENUM;
	else if (bytes_eq(uuid, uuid_rng, 16))
		ta = TA_RNG;
	else if (bytes_eq(uuid, uuid_test, 16))
		ta = TA_TEST;
	if (ta == TA_NONE) {
		ret = TEEC_ERROR_ITEM_NOT_FOUND;
	} else {
		for (i = 0; i < FW_MAX_SESSIONS; i++)
			if (!sessions[i].used) {
				s = &sessions[i];
				break;
			}
		if (!s)
			ret = TEEC_ERROR_OUT_OF_MEMORY;
	}
	if (s) {
		s->used = 1;
		s->id = ++next_session;
		s->ta = ta;
		s->boot = boot_n;
		nw_wr32(arg + MSG_ARG_SESSION, s->id);
	}
	nw_wr32(arg + MSG_ARG_RET, ret);
	nw_wr32(arg + MSG_ARG_RET_ORIGIN, TEEC_ORIGIN_TEE);
	uart_puts("TSW open ta=");
	log_uuid(uuid);
	logf(" session=%u ret=0x%x\n", s ? s->id : 0, ret);
}

static void msg_invoke(u64 arg, u32 np)
{
	u32 sid = nw_rd32(arg + MSG_ARG_SESSION);
	u32 cmd = nw_rd32(arg + MSG_ARG_FUNC);
	struct session *s = session_find(sid);
	u32 ret;

	if (!s)
		ret = TEEC_ERROR_BAD_STATE;
	else if (s->ta == TA_DEVENUM)
		ret = ta_devenum(cmd, arg, np);
	else if (s->ta == TA_RNG)
		ret = ta_rng(cmd, arg, np);
	else
		ret = ta_test(cmd, arg, np);
	nw_wr32(arg + MSG_ARG_RET, ret);
	nw_wr32(arg + MSG_ARG_RET_ORIGIN, s ? TEEC_ORIGIN_TRUSTED_APP :
					      TEEC_ORIGIN_TEE);
	/* the RNG is read continuously by hwrng: don't flood the log */
	if (!s || s->ta != TA_RNG || cmd != 0)
		logf("TSW invoke session=%u cmd=%u ret=0x%x\n", sid, cmd, ret);
}

static void msg_close_session(u64 arg)
{
	u32 sid = nw_rd32(arg + MSG_ARG_SESSION);
	struct session *s = session_find(sid);

	if (s)
		s->used = 0;
	nw_wr32(arg + MSG_ARG_RET, s ? TEEC_SUCCESS : TEEC_ERROR_BAD_STATE);
	nw_wr32(arg + MSG_ARG_RET_ORIGIN, TEEC_ORIGIN_TEE);
	logf("TSW close session=%u\n", sid);
}

static void msg_register_shm(u64 arg, u32 np)
{
	u64 p0 = param_pa(arg, 0);
	u64 attr, buf, size, cookie, list, need = 0, i, k;
	struct reg *r = NULL;
	u32 ret = TEEC_SUCCESS;
	int j;

	attr = nw_rd64(p0);
	buf = nw_rd64(p0 + 8);
	size = nw_rd64(p0 + 16);
	cookie = nw_rd64(p0 + 24);
	if (np != 1 || (attr & MSG_ATTR_TYPE_MASK) != MSG_ATTR_TMEM_OUTPUT ||
	    !(attr & MSG_ATTR_NONCONTIG)) {
		ret = TEEC_ERROR_BAD_PARAMETERS;
		goto out;
	}
	need = ((buf & (FW_PAGE - 1)) + size + FW_PAGE - 1) / FW_PAGE;
	if (reg_find(cookie)) {
		ret = TEEC_ERROR_BAD_PARAMETERS;	/* cookie in use */
		goto out;
	}
	if (regs_in_use() >= reg_capacity || need > FW_MAX_PAGES) {
		ret = TEEC_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	for (j = 0; j < FW_MAX_REGS; j++)
		if (!regs[j].used) {
			r = &regs[j];
			break;
		}
	if (!r) {
		ret = TEEC_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	/* page list: pages of 511 addresses and the next list page */
	list = buf & ~(u64)(FW_PAGE - 1);
	for (i = 0, k = 0; i < need; i++, k++) {
		if (k == FW_PAGE / 8 - 1) {
			list = nw_rd64(list + k * 8);
			k = 0;
		}
		if (!nw_ok(list, FW_PAGE)) {
			ret = TEEC_ERROR_BAD_PARAMETERS;
			goto out;
		}
		r->pages[i] = nw_rd64(list + k * 8);
		if (!nw_ok(r->pages[i], FW_PAGE)) {
			ret = TEEC_ERROR_BAD_PARAMETERS;
			goto out;
		}
	}
	r->used = 1;
	r->stale_reported = 0;
	r->cookie = cookie;
	r->size = size;
	r->offset = buf & (FW_PAGE - 1);
	r->npages = need;
	r->boot = boot_n;
	live_count++;
out:
	nw_wr32(arg + MSG_ARG_RET, ret);
	nw_wr32(arg + MSG_ARG_RET_ORIGIN, TEEC_ORIGIN_TEE);
	logf("TSW reg cookie=0x%lx size=%lu pages=%lu ret=0x%x live=%u\n",
	     cookie, size, need, ret, live_count);
}

static void msg_unregister_shm(u64 arg, u32 np)
{
	u64 p0 = param_pa(arg, 0);
	u64 cookie = nw_rd64(p0 + 24), size = 0;
	struct reg *r;
	u32 ret = TEEC_SUCCESS;

	r = np == 1 ? reg_find(cookie) : NULL;
	unregs_this_boot++;
	if (!r) {
		ret = TEEC_ERROR_BAD_PARAMETERS;	/* as OP-TEE 4.10 */
	} else if (FW_UNREG_BUSY && unregs_this_boot == FW_UNREG_BUSY) {
		/*
		 * Fault build (UNREG_BUSY=N): the Nth unregistration of each
		 * kernel finds the buffer in use and keeps it, as OP-TEE does
		 * while a call still holds the mobj.  The driver frees the
		 * shm anyway: the registration outlives it.
		 */
		size = r->size;
		ret = TEEC_ERROR_BUSY;
	} else {
		size = r->size;
		r->used = 0;
		live_count--;
	}
	nw_wr32(arg + MSG_ARG_RET, ret);
	nw_wr32(arg + MSG_ARG_RET_ORIGIN, TEEC_ORIGIN_TEE);
	logf("TSW unreg cookie=0x%lx size=%lu ret=0x%x live=%u\n", cookie,
	     size, ret, live_count);
}

static u64 msg_dispatch(u64 arg, u32 np)
{
	switch (nw_rd32(arg + MSG_ARG_CMD)) {
	case MSG_CMD_OPEN_SESSION:
		msg_open_session(arg, np);
		break;
	case MSG_CMD_INVOKE_COMMAND:
		msg_invoke(arg, np);
		break;
	case MSG_CMD_CLOSE_SESSION:
		msg_close_session(arg);
		break;
	case MSG_CMD_CANCEL:
		nw_wr32(arg + MSG_ARG_RET, TEEC_SUCCESS);
		break;
	case MSG_CMD_REGISTER_SHM:
		msg_register_shm(arg, np);
		break;
	case MSG_CMD_UNREGISTER_SHM:
		msg_unregister_shm(arg, np);
		break;
	default:
		logf("TSW badcmd cmd=%u\n", nw_rd32(arg + MSG_ARG_CMD));
		return SMC_RETURN_EBADCMD;
	}
	return SMC_RETURN_OK;
}

/* ------------------------------------------------------- yielding calls */

/*
 * Where a call's struct optee_msg_arg lives: at a physical address
 * (CALL_WITH_ARG, CALL_WITH_RPC_ARG) or at an offset into a registration
 * (CALL_WITH_REGD_ARG), whose pages need not be contiguous.
 */
struct argloc {
	const struct reg *reg;
	u64 pa;			/* !reg */
	u64 offs;		/* reg */
};

/*
 * The message is handled in this secure copy and written back: OP-TEE
 * maps a registered arg contiguously, here it may straddle two pages.
 */
static u64 msgbuf[FW_PAGE / 8];

static void arg_copy(const struct argloc *l, u64 from, u64 len, int to_nw)
{
	volatile u8 *b = (volatile u8 *)msgbuf;
	volatile u8 *p;
	u64 i;

	for (i = from; i < from + len; i++) {
		p = (volatile u8 *)(l->reg ? reg_pa(l->reg, l->offs + i) :
					     l->pa + i);
		if (to_nw)
			*p = b[i];
		else
			b[i] = *p;
	}
}

/*
 * OP-TEE's get_msg_arg(): span bytes are addressable from the arg; the
 * arg, and with rpc the RPC arg of THREAD_RPC_MAX_NUM_PARAMS right after
 * it, must fit, else EBADADDR.  No call here needs an RPC: that struct
 * is only checked, never written.
 */
static u64 std_call(const struct argloc *l, u64 span, int rpc)
{
	u64 need, ret;
	u32 np;

	if (span < MSG_ARG_HDR)
		return SMC_RETURN_EBADADDR;
	arg_copy(l, 0, MSG_ARG_HDR, 0);
	np = nw_rd32((u64)msgbuf + MSG_ARG_NUM_PARAMS);
	if (np > MSG_MAX_NUM_PARAMS)
		return SMC_RETURN_EBADADDR;
	need = MSG_ARG_SIZE(np);
	if (rpc)
		need += MSG_ARG_SIZE(OPTEE_RPC_NUM_PARAMS);
	if (need > span)
		return SMC_RETURN_EBADADDR;
	arg_copy(l, MSG_ARG_HDR, MSG_ARG_SIZE(np) - MSG_ARG_HDR, 0);
	ret = msg_dispatch((u64)msgbuf, np);
	arg_copy(l, 0, MSG_ARG_SIZE(np), 1);
	return ret;
}

/*
 * OP-TEE's std_entry_with_parg(): with no reserved shm, the arg is one
 * page of non-secure RAM, page aligned.
 */
static u64 call_with_parg(u64 pa, int rpc)
{
	struct argloc l = { .pa = pa };

	if ((pa & (FW_PAGE - 1)) || !nw_ok(pa, FW_PAGE))
		return SMC_RETURN_EBADADDR;
	return std_call(&l, FW_PAGE, rpc);
}

/*
 * OP-TEE's std_entry_with_regd_arg(): the arg at offs into this kernel's
 * registration cookie (its mobj spans the pages less the first page's
 * offset), 8-byte aligned, the RPC arg after it.
 */
static u64 call_with_regd_arg(u64 cookie, u32 offs)
{
	struct argloc l = { .offs = offs };
	u64 span;

	l.reg = reg_find(cookie);
	if (!l.reg)
		return SMC_RETURN_EBADADDR;
	span = (u64)l.reg->npages * FW_PAGE - l.reg->offset;
	if (offs >= span || ((offs + l.reg->offset) & 7))
		return SMC_RETURN_EBADADDR;
	return std_call(&l, span - offs, 1);
}

/* ------------------------------------------------------------------ SMC */

static void semihost_exit(u64 reason, u64 code)
{
	u64 block[2] = { reason, code };

	semihosting_call(SEMIHOST_SYS_EXIT, (u64)block);
}

/* a 64-bit value in two 32-bit registers, high word first */
static u64 reg_pair(u64 hi, u64 lo)
{
	return (hi << 32) | (lo & 0xffffffff);
}

/*
 * OP-TEE 4.10's tee_entry_exchange_capabilities(), for the capabilities
 * Linux acts on (README.md): dynamic shm, NULL memrefs, and the RPC arg
 * after each call's arg (a3: its parameter count), so that 6.1 keeps its
 * message args in a registered page.  x2 (max notification value) is
 * left as it came, as OP-TEE does without async notification.
 */
static void exchange_caps(u64 *x)
{
	u32 sec = OPTEE_SEC_CAP_DYNAMIC_SHM | OPTEE_SEC_CAP_MEMREF_NULL |
		  OPTEE_SEC_CAP_RPC_ARG;
	u64 nsec = x[1];

	if (nsec & ~(u64)OPTEE_NSEC_CAP_UNIPROCESSOR) {
		sec = 0;	/* a normal-world capability OP-TEE lacks */
		x[0] = SMC_RETURN_ENOTAVAIL;
	} else {
		x[0] = SMC_RETURN_OK;
		x[1] = sec;
		x[3] = OPTEE_RPC_NUM_PARAMS;
	}
	logf("TSW caps nsec=0x%lx sec=0x%x capacity=%u\n", nsec, sec,
	     reg_capacity);
}

static void smc(u64 *x)
{
	u32 fid = (u32)x[0];

	switch (fid) {
	/* PSCI 1.0 */
	case PSCI_VERSION:
		x[0] = 0x10000;
		return;
	case PSCI_FEATURES:
		switch ((u32)x[1]) {
		case PSCI_VERSION: case PSCI_FEATURES: case PSCI_SYSTEM_OFF:
		case PSCI_SYSTEM_RESET: case PSCI_MIGRATE_INFO_TYPE:
		case PSCI_CPU_ON_64: case PSCI_AFFINITY_INFO_64:
			x[0] = 0;
			return;
		}
		x[0] = PSCI_NOT_SUPPORTED;
		return;
	case PSCI_MIGRATE_INFO_TYPE:
		x[0] = 2;	/* trusted OS not present / no migration */
		return;
	case PSCI_CPU_ON_64:
		x[0] = PSCI_ALREADY_ON;
		return;
	case PSCI_AFFINITY_INFO_64:
		x[0] = 0;	/* ON */
		return;
	case PSCI_SYSTEM_OFF:
		dump_table("poweroff");
		logf("TSW poweroff\n");
		semihost_exit(ADP_STOPPED_APPLICATION_EXIT, 0);
		break;
	case PSCI_SYSTEM_RESET:
		dump_table("reset");
		logf("TSW reset\n");
		semihost_exit(ADP_STOPPED_APPLICATION_EXIT, FW_RESET_EXIT_CODE);
		break;

	/* OP-TEE SMC ABI */
	case OPTEE_SMC_CALLS_UID:
		new_boot();
		x[0] = OPTEE_MSG_UID_0;
		x[1] = OPTEE_MSG_UID_1;
		x[2] = OPTEE_MSG_UID_2;
		x[3] = OPTEE_MSG_UID_3;
		return;
	case OPTEE_SMC_CALLS_REVISION:
		x[0] = 2;
		x[1] = 0;
		return;
	case OPTEE_SMC_GET_OS_UUID:
		x[0] = OPTEE_OS_UUID_0;
		x[1] = OPTEE_OS_UUID_1;
		x[2] = OPTEE_OS_UUID_2;
		x[3] = OPTEE_OS_UUID_3;
		return;
	case OPTEE_SMC_GET_OS_REVISION:
		x[0] = 3;
		x[1] = 19;
		x[2] = 0x7ee5;	/* build id: "teeshm" testbed */
		return;
	case OPTEE_SMC_EXCHANGE_CAPABILITIES:
		exchange_caps(x);
		return;
	case OPTEE_SMC_GET_SHM_CONFIG:
		x[0] = SMC_RETURN_ENOTAVAIL;
		return;
	case OPTEE_SMC_ENABLE_SHM_CACHE:
		shm_cache_on = 1;
		x[0] = SMC_RETURN_OK;
		return;
	case OPTEE_SMC_DISABLE_SHM_CACHE:
		if (shm_cache_on) {
			shm_cache_on = 0;
			logf("TSW shutdown live=%u\n", live_count);
			dump_table("shutdown");
		}
		x[0] = SMC_RETURN_ENOTAVAIL;	/* nothing cached */
		return;
	case OPTEE_SMC_CALL_WITH_ARG:
	case OPTEE_SMC_CALL_WITH_RPC_ARG:
		x[0] = call_with_parg(reg_pair(x[1], x[2]),
				      fid == OPTEE_SMC_CALL_WITH_RPC_ARG);
		return;
	case OPTEE_SMC_CALL_WITH_REGD_ARG:
		x[0] = call_with_regd_arg(reg_pair(x[1], x[2]), (u32)x[3]);
		return;
	case OPTEE_SMC_CALLS_COUNT:
		x[0] = 12;
		return;
	}
	logf("TSW unknown smc fid=0x%x\n", fid);
	x[0] = SMCCC_NOT_SUPPORTED;
}

void fw_sync_lower(u64 *x)
{
	u64 esr = read_esr_el3();

	if ((esr >> 26) != ESR_EC_SMC64) {
		fw_unexpected(esr, read_elr_el3(), read_far_el3());
		return;
	}
	smc(x);
}

void fw_unexpected(u64 esr, u64 elr, u64 far)
{
	logf("TSW fault esr=0x%lx elr=0x%lx far=0x%lx\n", esr, elr, far);
	semihost_exit(ADP_STOPPED_RUN_TIME_ERROR, 3);
	for (;;)
		;
}

/* -------------------------------------------------------------- boot */

static void gic_init(void)
{
	u32 lines, i;

	lines = (mmio_rd32(GICD_BASE + GICD_TYPER) & 0x1f) + 1;
	for (i = 0; i < lines; i++)
		mmio_wr32(GICD_BASE + GICD_IGROUPR + 4 * i, 0xffffffff);
	mmio_wr32(GICD_BASE + GICD_CTLR, 3);
	mmio_wr32(GICC_BASE + GICC_CTLR, 3);
	mmio_wr32(GICC_BASE + GICC_PMR, 0xff);
}

void fw_cold_boot(void)
{
	if (!read_cntfrq())
		write_cntfrq(62500000);
	gic_init();
	reg_capacity = FW_DEFAULT_CAPACITY;
	rng_state = read_cntpct() | 1;
	logf("TSW firmware start capacity=%u max_pages=%u\n", reg_capacity,
	     FW_MAX_PAGES);
}

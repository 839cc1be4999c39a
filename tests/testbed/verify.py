#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""verify.py KIND RUNDIR [--tool BIN] [--key HEX] [--kexecs N]

Checks one testbed run against the secure world's log (the ground truth):
  boot    the guest's own checks passed (optee probed with dynamic shm,
          optee-rng bound, /dev/hwrng gave bytes)
  client  the libteec client passed, and every registration it made is
          unregistered again in the secure log
  live    at each boot, the tool's `status --json` (hashed ids) equals the
          secure world's table dumped at the same moment (TSW table
          why=mark), as sets of (id, size)
  kexec   for each kexec, the tool's kexec report on the console equals the
          list of stale registrations the secure world printed when the
          next kernel probed, as sets of (id, size); prints the table
  differential  RUNDIR (real OP-TEE) and --other RUNDIR (the emulation),
          the same scenario: per boot, the same sequence of registrations
          and unregistrations (sizes, order, which registration each
          unregistration undoes), and the same sizes left at each kexec
  kexec-hang  a process held /dev/teepriv0 at kexec (teeshm.supplicant=1)
          on FF-A: the guest ran `kexec -e`, the next kernel never came
          (the host's time limit ended the run), the hung task report
          names the TEE device's unregistration; prints what was left
  systemd the systemd guest under --policy warn (the check unit warns, the
          kexec goes on, report == secure world) or block (the unit fails,
          the kexec is stopped, the journal holds the structured verdict);
          on FF-A (7.3, Debian's tee-supplicant.service running): systemd
          stopped tee-supplicant before the kexec, which completed with
          every share reclaimed (warn), or a holder systemd spares made the
          check unit stop it (block, teeshm.holder=1)
Prints one line per check and exits 1 if any failed.
"""
import argparse
import json
import re
import shutil
import subprocess
import sys

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("  %-44s %s %s" % (name, "PASS" if ok else "FAIL", detail))


# FF-A (the secure log's "TSW boot n=N abi=ffa"): OP-TEE sees shares of
# whole pages and never the byte size the kernel meant, so the tool's sizes
# are compared rounded up to pages (the testbed's buffers are page-aligned)
ffa = False


def shared(size):
    """a size of the tool's as the secure world can know it"""
    return (size + 4095) // 4096 * 4096 if ffa else size


def ffa_cookie_ids(tool, key, lines):
    """FF-A: {tool id: id of its cookie}.  The tool names a buffer by its
    tee_shm (id), OP-TEE a share by its global handle, which the tool
    records as the buffer's cookie at each registration (the trace's
    register events, TBJ); the last registration of a tee_shm wins"""
    cookie = {}
    for l in lines:
        m = re.search(r"TBJ (\{.*\})\s*$", l)
        if not m:
            continue
        e = json.loads(m.group(1))
        if e.get("event") == "register" and e.get("ret") == 0 and e.get("cookie"):
            cookie[e["shm"]] = e["cookie"]
    ids = hash_ids(tool, key, list(cookie) + list(cookie.values()))
    return {ids[shm]: ids[c] for shm, c in cookie.items()}


def read(path):
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def guest_checks(console):
    out = []
    for line in console:
        m = re.search(r"TBR check scenario=(\S+) boot=(\d+) name=(\S+) result=(\S+) detail=(.*)", line)
        if m:
            out.append(m.groups())
    return out


def hash_ids(tool, key, cookies):
    if not cookies:
        return {}
    r = subprocess.run([tool, "--id-key", key, "id"] + sorted(cookies),
                       capture_output=True, text=True, check=True)
    ids = {}
    for line in r.stdout.splitlines():
        addr, h = line.split()
        ids[addr] = h
    return ids


def per_boot(console):
    """console lines grouped by guest boot number"""
    boots, cur = {}, None
    for line in console:
        m = re.search(r"TBR begin scenario=\S+ boot=(\d+)", line)
        if m:
            cur = int(m.group(1))
        if cur is not None:
            boots.setdefault(cur, []).append(line)
    return boots


def secure_blocks(secure, why):
    """dumps 'TSW table why=WHY', in order: list of {cookie: (size, boot)}"""
    blocks, cur = [], None
    for line in secure:
        m = re.match(r"TSW table why=(\S+) count=(\d+)", line)
        if m:
            cur = {} if m.group(1) == why else None
            if cur is not None:
                blocks.append(cur)
            continue
        m = re.match(r"TSW live cookie=(0x[0-9a-f]+) size=(\d+) pages=\d+ boot=(\d+)", line)
        if m and cur is not None:
            cur[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        elif not line.startswith("TSW live"):
            cur = None
    return blocks


def stale_lists(secure):
    """{boot: {cookie: size}}: what each kernel left registered, from the
    'TSW stale' lines its successor's probe printed (each stale entry
    names the kernel that registered it: from=B; both secure worlds list
    an entry once)"""
    out, listing = {}, False
    for line in secure:
        m = re.match(r"TSW stale boot=(\d+) count=(\d+)", line)
        if m:
            listing = True
            out.setdefault(int(m.group(1)), {})
            continue
        m = re.match(r"TSW stale cookie=(0x[0-9a-f]+) size=(\d+) pages=\d+ from=(\d+)", line)
        if m and listing:
            out.setdefault(int(m.group(3)), {})[m.group(1)] = int(m.group(2))
    return out


def secure_per_boot(secure):
    """secure-log lines grouped by the normal-world boot they belong to"""
    boots, cur = {}, 0
    for line in secure:
        m = re.match(r"TSW boot n=(\d+)", line)
        if m:
            cur = int(m.group(1))
        boots.setdefault(cur, []).append(line)
    return boots


def shm_sequence(lines):
    """one boot's registrations and unregistrations, cookie-free: ("reg",
    size, ok) and ("unreg", size, ok, k) where k numbers the registration
    it undid in this boot's order (None: none of this boot's)"""
    seq, serial, live = [], 0, {}
    for line in lines:
        m = re.match(r"TSW (reg|unreg) cookie=(0x[0-9a-f]+) size=(\d+) .*ret=(0x[0-9a-f]+)", line)
        if not m:
            continue
        kind, cookie, size, ok = m.group(1), m.group(2), int(m.group(3)), int(m.group(4), 16) == 0
        if kind == "reg":
            seq.append(("reg", size, ok))
            if ok:
                live[cookie] = serial
            serial += 1
        else:
            seq.append(("unreg", size, ok, live.get(cookie)))
            if ok:
                live.pop(cookie, None)
    return seq


def verify_differential(a):
    """the same scenario on two secure worlds (RUNDIR: real OP-TEE, --other:
    the emulation): per boot, the same sequence of registrations and
    unregistrations"""
    one = secure_per_boot(read(a.rundir + "/secure.log"))
    two = secure_per_boot(read(a.other + "/secure.log"))
    boots = sorted((set(one) | set(two)) - {0})
    check("both runs reached the same boots", set(one) - {0} == set(two) - {0} and boots != [],
          "%s vs %s" % (sorted(set(one) - {0}), sorted(set(two) - {0})))
    for n in boots:
        s1, s2 = shm_sequence(one.get(n, [])), shm_sequence(two.get(n, []))
        i = next((i for i, (x, y) in enumerate(zip(s1, s2)) if x != y), min(len(s1), len(s2)))
        same = s1 == s2
        check("boot %d: same registrations and unregistrations (%d)" % (n, len(s1)), same and s1 != [],
              "" if same else "first difference at #%d: %s vs %s" % (
                  i, s1[i] if i < len(s1) else "end", s2[i] if i < len(s2) else "end"))
    st1, st2 = stale_lists(read(a.rundir + "/secure.log")), stale_lists(read(a.other + "/secure.log"))
    for n in sorted(set(st1) | set(st2)):
        z1, z2 = sorted(st1.get(n, {}).values()), sorted(st2.get(n, {}).values())
        check("boot %d left the same registrations (sizes)" % n, z1 == z2, "%s vs %s" % (z1, z2))


def verify_guest(console, expect, judged_elsewhere=()):
    got = guest_checks(console)
    names = {g[2] for g in got}
    for name in expect:
        check("guest: " + name, name in names, "(not run)" if name not in names else "")
    for scen, boot, name, res, detail in got:
        if name in judged_elsewhere:
            continue
        if name in expect:
            check("guest boot %s: %s" % (boot, name), res == "PASS", detail[:60])
        elif res != "PASS":
            check("guest boot %s: %s" % (boot, name), False, detail[:60])


def probe_misses(lines):
    """(events listed, misses) from the guest's kprobe_profile lines (TBM)"""
    n, miss = 0, 0
    for l in lines:
        m = re.match(r"TBM (teeshm_\S+)\s+(\d+)\s+(\d+)", l)
        if m:
            n += 1
            miss += int(m.group(3))
    return n, miss


def verify_misses(a, boots):
    """every boot: the kernel missed no probe hit, or (--expect-misses) it
    did, and `check` said UNKNOWN instead of a verdict"""
    for n in sorted(boots):
        ev, miss = probe_misses(boots[n])
        if not ev:
            continue
        tbc = [l for l in boots[n] if l.startswith("TBC ")]
        st = [json.loads(l[4:]) for l in boots[n] if l.startswith("TBO ")]
        if a.expect_misses:
            check("boot %d: the kernel missed return probes (maxactive)" % n, miss > 0,
                  "%d misses on %d events" % (miss, ev))
            check("boot %d: status counts them" % n,
                  bool(st) and st[-1].get("probe_misses", 0) > 0,
                  str(st[-1].get("probe_misses")) if st else "no TBO line")
            # missed releases leave entries behind; a new buffer at the
            # same address replaces them (stale_entries), it does not
            # inherit their allocation site: what the kexec report names
            # is optee-rng's buffer, as in the secure world
            sites = [l.split("site=", 1)[1].strip() for l in boots[n]
                     if "teeshm-trace: kexec-site " in l and "site=" in l]
            if n <= a.kexecs:   # (a boot that did not kexec has no report)
                check("boot %d: the leak's site is optee_rng_init, not inherited" % n,
                      bool(sites) and all(x.startswith("optee_rng_init+") for x in sites),
                      "%s; stale entries replaced: %s" % (
                          ",".join(sites) or "no site line",
                          st[-1].get("stale_entries") if st else "no TBO line"))
            # a leak is known (optee-rng): FAIL, with the warning
            check("boot %d: check FAILs, and warns of the misses" % n,
                  bool(tbc) and tbc[-1].startswith("TBC rc=1 warning: ") and
                  "probe hits missed" in tbc[-1], tbc[-1][:90] if tbc else "no TBC line")
            # every owner allowed: would be PASS, but nothing can be known
            allow = [g for g in guest_checks(boots[n]) if g[2] == "check-policy-allow-owner"]
            check("boot %d: all allowed: UNKNOWN, never PASS" % n,
                  bool(allow) and "rc=1," in allow[-1][4] and "UNKNOWN:_the_kernel_missed" in allow[-1][4],
                  allow[-1][4][-60:] if allow else "not run")
        else:
            check("boot %d: no probe hit missed by the kernel" % n, miss == 0,
                  "%d misses on %d events" % (miss, ev))


def verify_orphan(a, n, lines, sboot, sw, rep):
    """boot n under a firmware that answered one unregistration BUSY"""
    busy = [re.match(r"TSW unreg cookie=(0x[0-9a-f]+) size=(\d+) ret=0xffff000d", l)
            for l in sboot]
    busy = [(m.group(1), int(m.group(2))) for m in busy if m]
    check("boot %d: secure world kept one buffer (BUSY)" % n, len(busy) == 1, str(busy))
    if len(busy) != 1:
        return
    cookie, size = busy[0]
    oid = hash_ids(a.tool, a.key, [cookie])[cookie]
    check("boot %d: it outlived its kernel (secure-world stale list)" % n,
          sw.get(cookie) == size, "cookie %s size %d" % (cookie, size))
    st = [json.loads(l[4:]) for l in lines if l.startswith("TBO ")]
    orph = [b for b in st[-1]["buffers"] if b.get("orphaned")] if st else []
    check("boot %d: status after the release: orphaned, registered" % n,
          [(b["id"], b["size"], b["state"]) for b in orph] == [(oid, size, "registered")] and
          st[-1].get("orphaned") == 1,
          str(orph)[:80] if orph else "none in %s" % (str(st[-1])[:80] if st else "no TBO line"))
    tbc = [l for l in lines if l.startswith("TBC ")]
    check("boot %d: check after the release: FAIL (exit 1)" % n,
          bool(tbc) and tbc[-1].startswith("TBC rc=1 FAIL: ") and "orphaned" in tbc[-1],
          tbc[-1][:90] if tbc else "no TBC line")
    marked = any(re.search(r"teeshm-trace: kexec-orphan id=0*%s\b" % oid.lstrip("0"), l)
                 for l in lines)
    check("kexec %d: the report has it, marked orphan" % n, (oid, size) in rep and marked,
          "id %s" % oid)


def verify_attach(console):
    """Scenario 13: the boots ran the same workload under --attach kprobe,
    fentry, auto: the same verdicts and reports, ids and times aside."""
    boots = per_boot(console)
    mech = {}
    for n, lines in boots.items():
        for l in lines:
            m = re.match(r"TBA boot=\d+ attach=(\w+)", l)
            if m:
                mech[n] = m.group(1)
    def probes(n):      # {function: {mechanisms}} from trace --verbose
        out = {}
        for l in boots.get(n, []):
            m = re.match(r"TBA teeshm-trace: probe (\S+) +\S+ +attached.*? (fentry|fexit|kprobe|kretprobe)", l)
            if m:
                out.setdefault(m.group(1), set()).add(m.group(2))
        return out
    def report(n):      # the console kexec report of boot n: (size, flags, site)
        ids, out = {}, []
        for l in boots.get(n, []):
            m = re.search(r"kexec-registered id=(\w+) size=(\d+) flags=(0x\w+)", l)
            if m:
                ids[m.group(1)] = len(out)
                out.append([int(m.group(2)), m.group(3), ""])
            m = re.search(r"kexec-site id=(\w+) pid=\d+ site=(\S+)", l)
            if m and m.group(1) in ids:
                out[ids[m.group(1)]][2] = m.group(2)
        return sorted(tuple(e) for e in out)
    def status(n, tag):  # status --json of boot n: what each buffer is, and the totals
        for l in boots.get(n, []):
            if l.startswith(tag + " "):
                j = json.loads(l[len(tag) + 1:])
                # (pid and comm aside: which thread first calls optee,
                # insmod or its notification thread, is a race)
                # allocated_by: from the entry program (kprobes) or read
                # from the shm at its registration (allocations on fexit)
                bufs = sorted((b["state"], b["size"], ",".join(b["flags"]), b.get("caller", ""),
                               b.get("allocated_by", "")) for b in j["buffers"])
                tot = {k: j[k] for k in ("registered", "registered_bytes", "orphaned", "lost_events",
                                         "probe_misses", "stale_entries")}
                return bufs, tot
        return None
    def verdict(n):
        for l in boots.get(n, []):
            m = re.match(r"TBC rc=(\d+) (\w+):", l)
            if m:
                return m.group(1), m.group(2)
        return None
    def last_kexec(n):
        for l in boots.get(n, []):
            m = re.match(r"TBL rc=(\d+) *(\{.*\})?", l)
            if m and m.group(2):
                j = json.loads(m.group(2))
                return m.group(1), sorted((b["size"], b["raw_flags"], b.get("site", ""))
                                          for b in j["registered"])
        return None
    check("boot 1 under --attach kprobe, boot 2 under --attach fentry",
          mech.get(1) == "kprobe" and mech.get(2) == "fentry", str(mech))
    p1, p2 = probes(1), probes(2)
    check("boot 1: every probe a kprobe or kretprobe",
          p1 and all(m <= {"kprobe", "kretprobe"} for m in p1.values()), str(sorted(p1)))
    # tee_shm_put has only an fentry: the last put is decided at entry;
    # an allocation function only an fexit, which has its arguments too
    want = {"tee_shm_alloc_user_buf": {"fexit"},
            "tee_shm_alloc_kernel_buf": {"fexit"},
            "tee_shm_put": {"fentry"}}
    check("boot 2: the TEE core's functions on fentry or fexit",
          all(p2.get(f) == m for f, m in want.items()),
          " ".join("%s:%s" % (f, "+".join(sorted(m))) for f, m in sorted(p2.items())))
    check("boot 2: optee.ko (loaded after the tracer) on tracefs kprobes",
          p2.get("optee_shm_register") == {"kprobe", "kretprobe"} and
          any(" optee_shm_register " in l and "armed when its module loads" in l
              for l in boots.get(2, []) if l.startswith("TBA ")), "")
    for a, b in ((1, 2), (2, 3)):
        if b not in boots:
            continue
        for tag, what in (("TBS", "status with the client's buffers"),
                          ("TBO", "status after the client's release")):
            sa, sb = status(a, tag), status(b, tag)
            check("boots %d, %d (%s, %s): %s equal" % (a, b, mech.get(a), mech.get(b), what),
                  sa is not None and sa == sb, "" if sa == sb else "%s vs %s" % (sa, sb))
        va, vb = verdict(a), verdict(b)
        check("boots %d, %d: check verdict equal" % (a, b), va is not None and va == vb,
              "%s vs %s" % (va, vb))
    ra, rb = report(1), report(2)
    check("kexec reports under kprobe and fentry equal (size, flags, site)",
          ra == rb and len(ra) > 0, "%s vs %s" % (ra, rb))
    la, lb = last_kexec(2), last_kexec(3)
    check("last-kexec after each mechanism's kexec: equal (pstore)",
          la is not None and la == lb, "%s vs %s" % (la, lb))


def systemd_journal(lines):
    """the check's structured journal entry (the guard's TBJJ lines)"""
    jn = {}
    for l in lines:
        m = re.search(r"TBJJ (\{.*\})\s*$", l)
        if m:
            e = json.loads(m.group(1))
            jn = {k: v for k, v in e.items() if isinstance(v, str) and (
                k.startswith("TEESHM_") or k in ("MESSAGE", "PRIORITY", "_SYSTEMD_UNIT"))}
    return jn


def verify_systemd_ffa(a, console, secure):
    """The systemd guest on FF-A (7.3): Debian's tee-supplicant.service holds
    /dev/teepriv0 when `systemctl kexec` starts.  warn: systemd stops it
    before the kexec, which completes, every share reclaimed (report ==
    OP-TEE's list: empty); block (teeshm.holder=1): a holder systemd-shutdown
    spares is still there at the check, which stops the kexec."""
    boots = per_boot(console)
    # systemd's status lines on the console, without their colours
    b1 = [re.sub(r"\x1b\[[0-9;]*m", "", l) for l in boots.get(1, [])]
    expect = ["package-installed", "agent-pinned", "ffa-driver-loaded", "drivers-loaded",
              "optee-over-ffa", "supplicant-unit-holds-teepriv0", "client", "kexec-loaded"]
    if a.policy == "block":
        expect.append("holder-spared-holds-tee0")
    verify_guest(console, expect, ["kexec-happened"])
    def at(pat):        # index of the first console line of boot 1 matching
        return next((i for i, l in enumerate(b1) if re.search(pat, l)), None)
    unit = [l for l in b1 if re.search(r"teeshm-trace\[\d+\]: (PASS|WARN|FAIL): ", l)]
    i_unit = at(r"teeshm-trace\[\d+\]: (PASS|WARN|FAIL): ")
    i_stop = at(r"Stopped tee-supplicant\.service")
    i_jump = at(r"kexec_core: Starting new kernel")
    i_exec = at(r"TBR kexec from=1")
    # before: the check as it stood, and as the unit will judge it
    now = [json.loads(l.split("TBV now ", 1)[1]) for l in b1 if "TBV now {" in l]
    sdk = [json.loads(l.split("TBV systemd-kexec ", 1)[1]) for l in b1 if "TBV systemd-kexec {" in l]
    supp = [h for h in (now[-1]["tee_holders"] if now else []) if h["comm"] == "tee-supplicant"]
    check("before: check names tee-supplicant (the kexec would hang)",
          bool(now) and now[-1]["kexec_hangs"] and supp != [] and now[-1]["verdict"] in ("WARN", "FAIL"),
          "%s holders %s" % (now[-1]["verdict"], [h["comm"] for h in now[-1]["tee_holders"]])
          if now else "no TBV line")
    spared = 1 if a.policy == "block" else 0
    check("before, --systemd-kexec: %d holder%s count%s (spared by systemd-shutdown)" %
          (spared, "" if spared == 1 else "s", "s" if spared == 1 else ""),
          bool(sdk) and sdk[-1]["kexec_hang_holders"] == spared,
          str(sdk[-1]["kexec_hang_holders"]) if sdk else "no TBV line")
    check("systemd stopped tee-supplicant.service after `systemctl kexec`",
          None not in (i_exec, i_stop) and i_exec < i_stop, "line %s" % i_stop)
    check("... before the pre-kexec check ran", None not in (i_stop, i_unit) and i_stop < i_unit,
          unit[-1].split("]: ", 1)[-1][:70] if unit else "no verdict")
    hung = [l for l in console if "blocked for more than" in l]
    regs = [re.match(r"TSW reg cookie=(0x[0-9a-f]+) size=(\d+) .*ret=0x0 ", l)
            for l in secure_per_boot(secure).get(1, [])]
    regs = {m.group(1) for m in regs if m}
    unregs = [re.match(r"TSW unreg cookie=(0x[0-9a-f]+) size=(\d+) ret=0x0 ", l)
              for l in secure_per_boot(secure).get(1, [])]
    unregs = {m.group(1) for m in unregs if m}
    if a.policy == "warn":
        check("check unit: PASS, no holder to wait for",
              bool(unit) and "PASS: " in unit[-1] and
              not any("kexec would hang" in l for l in b1[i_unit:] if i_unit is not None),
              unit[-1].split("]: ", 1)[-1][:70] if unit else "no verdict")
        check("the kexec went ahead (after the supplicant's stop)",
              None not in (i_stop, i_jump) and i_stop < i_jump)
        check("no hung task", hung == [], hung[0][:70] if hung else "")
        check("the next kernel booted (over FF-A)", 2 in boots and
              any(re.match(r"TSW boot n=2 abi=ffa", l) for l in secure))
        check("OP-TEE: every share of boot 1 reclaimed (%d handles)" % len(regs),
              regs != set() and regs <= unregs, "left %s" % sorted(regs - unregs))
        rep = [l for l in b1 if "teeshm-trace: kexec-registered " in l]
        sw = stale_lists(secure).get(1, {})
        check("kexec report == OP-TEE's stale list (both empty)",
              rep == [] and sw == {} and any("teeshm-trace: kexec-end" in l for l in b1),
              "tool %d, OP-TEE %d" % (len(rep), len(sw)))
    else:
        check("check unit: FAIL, the kexec would hang",
              bool(unit) and "FAIL" in unit[-1] and
              any("kexec would hang" in l for l in b1[i_unit:]) if i_unit is not None else False,
              unit[-1].split("]: ", 1)[-1][:70] if unit else "no verdict")
        check("systemd: kexec dependency failed",
              any("Dependency failed" in l and "kexec" in l for l in b1))
        check("the kexec was stopped (no new kernel, no hung task)",
              i_jump is None and 2 not in boots and hung == [] and
              not any(re.match(r"TSW boot n=2", l) for l in secure))
        got = {g[2]: g[3] for g in guest_checks(console)}
        check("guard: still in boot 1", got.get("kexec-happened") == "FAIL")
        jn = systemd_journal(b1)
        check("journal: FAIL, policy block, from the check unit",
              jn.get("TEESHM_VERDICT") == "FAIL" and jn.get("TEESHM_POLICY") == "block"
              and jn.get("PRIORITY") == "3"
              and jn.get("_SYSTEMD_UNIT") == "teeshm-trace-kexec-check.service", str(jn)[:80])
        hold = jn.get("TEESHM_HOLDERS", "").splitlines()
        check("journal: the spared holder named, tee-supplicant gone",
              jn.get("TEESHM_KEXEC_HANG") == "1" and len(hold) == 1 and
              hold[0].endswith(" sleep /dev/tee0") and "kexec would hang" in jn.get("MESSAGE", ""),
              "; ".join(hold))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["boot", "client", "live", "kexec", "kexec-hang", "capacity", "systemd",
                                     "agent-nopin", "differential", "attach"])
    ap.add_argument("--other", help="differential: the run on the other secure world")
    ap.add_argument("--policy", choices=["warn", "block"], default="warn")
    ap.add_argument("rundir")
    ap.add_argument("--tool", default="build/teeshm-trace")
    ap.add_argument("--key", default="000102030405060708090a0b0c0d0e0f")
    ap.add_argument("--kexecs", type=int, default=0)
    ap.add_argument("--label", default="")
    ap.add_argument("--expect", choices=["any", "some", "none"], default="any",
                    help="kexec: leaks expected at every kexec (some), at none (none)")
    ap.add_argument("--no-pstore", action="store_true",
                    help="the kernel writes no pstore record at kexec (5.10: no "
                    "kmsg_dump(SHUTDOWN) in kernel_kexec, no PSTORE_CONSOLE)")
    ap.add_argument("--expect-priv", action="store_true",
                    help="kexec: the tool must find driver-private (PRIV) buffers registered")
    ap.add_argument("--expect-misses", action="store_true",
                    help="kexec: booted with teeshm.maxactive=1: the kernel misses "
                    "return probes, and the tool must not give a verdict")
    ap.add_argument("--expect-orphan", action="store_true",
                    help="kexec: firmware built with UNREG_BUSY: in every boot one "
                    "unregistration is answered BUSY, the kernel frees the buffer anyway, "
                    "and the tool must keep it (status, check, kexec report)")
    a = ap.parse_args()
    if a.kind == "differential":
        if not a.other:
            ap.error("differential needs --other RUNDIR")
        verify_differential(a)
        failed = results.count(False)
        print("%s: %d passed, %d failed" % (a.kind, results.count(True), failed))
        return 1 if failed or not results else 0
    console = read(a.rundir + "/console.log")
    secure = read(a.rundir + "/secure.log")
    global ffa
    ffa = any(re.match(r"TSW boot n=\d+ abi=ffa", l) for l in secure)
    if a.kind == "attach":
        verify_attach(console)
        failed = results.count(False)
        print("%s: %d passed, %d failed" % (a.kind, results.count(True), failed))
        return 1 if failed or not results else 0

    if a.kind == "boot":
        verify_guest(console, ["modules-loaded", "optee-ffa" if ffa else "optee-dynamic-shm",
                               "optee-rng-bound", "hwrng-bytes"])
        check("secure world: a kernel probed", any(l.startswith("TSW boot n=1") for l in secure))
    elif a.kind == "kexec-hang":
        verify_guest(console, ["supplicant-holds-teepriv0", "check-names-holder"])
        boots = per_boot(console)
        b1 = boots.get(1, [])
        check("boot 1 ran kexec -e", any("TBT kexec-exec" in l for l in b1))
        check("the next kernel never started", 2 not in boots and
              not any("Starting new kernel" in l for l in console) and
              not any(l.startswith("TSW boot n=2") for l in secure))
        hung = [l for l in console if "blocked for more than" in l]
        where = [f for f in ("tee_device_unregister", "optee_remove_common", "optee_ffa_remove",
                             "ffa_remove", "device_shutdown", "kernel_kexec")
                 if any(f in l for l in console)]
        check("hung task report: tee_device_unregister at kexec",
              hung != [] and "tee_device_unregister" in where and "kernel_kexec" in where,
              " <- ".join(where))
        rep = [l for l in b1 if "teeshm-trace: kexec-registered " in l]
        regs = sum(1 for l in secure if re.match(r"TSW reg .*ret=0x0 ", l))
        unregs = sum(1 for l in secure if re.match(r"TSW unreg .*ret=0x0 ", l))
        tbc = [l for l in b1 if l.startswith("TBC ")]
        print("  (found: the tool's kexec report listed %d buffers%s; the secure world saw %d shares, "
              "%d reclaims, %d still shared; check before the kexec: %s)" % (
                  len(rep), "" if any("teeshm-trace: kexec-end" in l for l in b1) else " (no kexec-end)",
                  regs, unregs, regs - unregs, tbc[-1][4:].strip() if tbc else "none"))
    elif a.kind == "agent-nopin":
        verify_guest(console, ["agent-attached", "agent-killed-events-left", "agent-restart-tracefs",
                               "client", "agent-restart-return-probes-hit", "agent-stop-clean"])
    elif a.kind == "client":
        verify_guest(console, ["dev-tee0", "client", "mark"])
        regs, unregs = [], set()
        for line in secure:
            m = re.match(r"TSW reg cookie=(0x[0-9a-f]+) size=8192 .*ret=0x0", line)
            if m:
                regs.append(m.group(1))
            m = re.match(r"TSW unreg cookie=(0x[0-9a-f]+) size=8192 ret=0x0", line)
            if m:
                unregs.add(m.group(1))
        check("secure world: client registrations seen", len(regs) >= 6, "%d (3 rounds x 2)" % len(regs))
        left = [c for c in regs if c not in unregs]
        check("secure world: all client shm unregistered", not left, " ".join(left))
    elif a.kind == "capacity":
        # emulated firmware built with CAPACITY=2: on 6.1 optee.ko's
        # argument-cache page and optee-rng's buffer fill it, so the
        # client's first registration must be refused with OUT_OF_MEMORY,
        # as OP-TEE answers when its bookkeeping is exhausted
        oom = [l for l in secure if re.match(r"TSW reg .*ret=0xffff000c", l)]
        check("secure world refused a registration: out of memory", len(oom) > 0, oom[0] if oom else "")
        cap = [l for l in secure if l.startswith("TSW firmware start capacity=2 ")]
        check("firmware capacity is 2", len(cap) == 1)
        got = {g[2]: g[3] for g in guest_checks(console)}
        check("guest: the client saw the failure", got.get("client") == "FAIL", got.get("client", "not run"))
        check("guest: hwrng still works", got.get("modules-loaded") == "PASS")
    elif a.kind == "systemd" and ffa:
        verify_systemd_ffa(a, console, secure)
    elif a.kind == "systemd":
        # the systemd guest: the agent from early boot, the pre-kexec check
        # unit under the policy the run was booted with
        boots = per_boot(console)
        b1 = boots.get(1, [])
        for scen, boot, name, res, detail in guest_checks(console):
            if name == "kexec-happened":
                continue        # the guard: judged below, per policy
            check("guest boot %s: %s" % (boot, name), res == "PASS", detail[:60])
        unit = [l for l in b1 if re.search(r"teeshm-trace\[\d+\]: (PASS|WARN|FAIL): ", l)]
        # the unit's table goes to the journal: keyed ids, never an address
        said = [l for l in b1 if re.search(r"teeshm-trace\[\d+\]: ", l)]
        rows = [l for l in said if re.search(r"\]: [0-9a-f]{16} +\d+ .* registered ", l)]
        check("check unit's table: keyed ids, no kernel address",
              rows and not any(re.search(r"0x[0-9a-f]{12,}|ffff[0-9a-f]{12}", l) for l in said),
              (rows or said or ["nothing said"])[0].split("]: ", 1)[-1][:60])
        hook = [l for l in b1 if "teeshm-trace (system-shutdown): " in l]
        jumped = any("kexec_core: Starting new kernel" in l for l in b1)
        reg = [l for l in b1 if l.startswith("TBH ") or " TBH " in l]
        nreg = sum(1 for l in reg if " registered " in l)
        if a.policy == "warn":
            check("check unit: WARN on the console", any("WARN: " in l for l in unit),
                  unit[-1].split("]: ", 1)[-1] if unit else "no verdict")
            check("system-shutdown hook spoke", len(hook) > 0)
            check("the kexec went ahead", jumped)
            check("the next kernel booted", 2 in boots)
            rep = set()
            for l in b1:
                m = re.search(r"teeshm-trace: kexec-registered id=([0-9a-f]+) size=(\d+)", l)
                if m:
                    rep.add((m.group(1).zfill(16), int(m.group(2))))
            sw = stale_lists(secure).get(1, {})
            ids = hash_ids(a.tool, a.key, list(sw))
            swset = {(ids[c], s) for c, s in sw.items()}
            check("kexec report == secure-world stale list", rep == swset and len(rep) == nreg,
                  "tool %s sw %s status %d" % (sorted(rep), sorted(swset), nreg))
        else:
            check("check unit: FAIL on the console", any("FAIL: " in l for l in unit),
                  unit[-1].split("]: ", 1)[-1] if unit else "no verdict")
            check("systemd: kexec dependency failed",
                  any("Dependency failed" in l and "kexec" in l for l in b1))
            check("the kexec was stopped", not jumped and 2 not in boots)
            got = {g[2]: g[3] for g in guest_checks(console)}
            check("guard: still in boot 1", got.get("kexec-happened") == "FAIL")
            jn = systemd_journal(b1)
            check("journal: the check's structured entry",
                  jn.get("TEESHM_VERDICT") == "FAIL" and jn.get("TEESHM_POLICY") == "block"
                  and jn.get("PRIORITY") == "3"
                  and jn.get("_SYSTEMD_UNIT") == "teeshm-trace-kexec-check.service", str(jn)[:80])
            check("journal: registered count == status",
                  jn.get("TEESHM_REGISTERED") == str(nreg) and nreg > 0,
                  "%s vs %d" % (jn.get("TEESHM_REGISTERED"), nreg))
            check("journal: sites named, no kernel address",
                  "optee_rng_init" in jn.get("TEESHM_SITES", "") and
                  not any(re.search(r"0x[0-9a-f]{12,}|ffff[0-9a-f]{12}", v) for v in jn.values()),
                  jn.get("TEESHM_SITES", "").replace("\n", "; "))
    elif a.kind == "live":
        verify_guest(console, [])      # every check the guest made passed
        boots = per_boot(console)
        marks = secure_blocks(secure, "mark")
        check("secure world: one table dump per boot", len(marks) == len(boots), "%d dumps, %d boots" % (len(marks), len(boots)))
        for n in sorted(boots):
            st = [l for l in boots[n] if l.startswith("TBS ")]
            if not st or n - 1 >= len(marks):
                check("boot %d: tool status and secure table" % n, False, "missing")
                continue
            status = json.loads(st[-1][4:])
            # FF-A: OP-TEE knows a share by its handle (the cookie)
            tool = {(b["cookie_id"] if ffa else b["id"], shared(b["size"]))
                    for b in status["buffers"] if b["state"] == "registered"}
            mine = {c: s for c, (s, b) in marks[n - 1].items() if b == n}
            ids = hash_ids(a.tool, a.key, list(mine))
            sw = {(ids[c], s) for c, s in mine.items()}
            check("boot %d: live table == secure world (%d buffers)" % (n, len(sw)),
                  tool == sw and len(sw) > 0,
                  "" if tool == sw else "tool-only %s sw-only %s" % (tool - sw, sw - tool))
            prom = [l[4:] for l in boots[n] if l.startswith("TBP ")]
            if prom:
                # `export` from the same live table: the same figures, no
                # kernel address, and valid for Prometheus
                val = {}
                for l in prom:
                    m = re.match(r"(teeshm_registered_(buffers|bytes))\{[^}]*\} (\d+)", l)
                    if m:
                        val[m.group(1)] = val.get(m.group(1), 0) + int(m.group(3))
                regs = [b for b in status["buffers"] if b["state"] == "registered"]
                check("boot %d: export == status (buffers, bytes)" % n,
                      val.get("teeshm_registered_buffers") == len(regs) and
                      val.get("teeshm_registered_bytes") == sum(b["size"] for b in regs), str(val))
                check("boot %d: export holds no kernel address" % n,
                      not any(re.search(r"0x[0-9a-f]{8,}|ffff[0-9a-f]{12}", l) for l in prom))
                if shutil.which("promtool"):
                    r = subprocess.run(["promtool", "check", "metrics"], input="\n".join(prom) + "\n",
                                       capture_output=True, text=True)
                    check("boot %d: promtool check metrics" % n, r.returncode == 0,
                          (r.stdout + r.stderr).strip()[:80])
    elif a.kind == "kexec":
        # with missed probes the all-allowed check is UNKNOWN (judged below)
        # teeshm.supplicant=stop: the check named the holder, then found
        # none once it was gone, and the kexec below completed
        held = any("teeshm.supplicant=stop" in l for l in console)
        verify_guest(console, ["supplicant-holds-teepriv0", "check-names-holder", "check-released"]
                     if held else [], ["check-policy-allow-owner"] if a.expect_misses else [])
        boots = per_boot(console)
        stale = stale_lists(secure)
        check("guest reached boot %d" % (a.kexecs + 1), (a.kexecs + 1) in boots)
        verify_misses(a, boots)
        rows = []
        for n in range(1, a.kexecs + 1):
            lines = boots.get(n, [])
            rep, raw = set(), set()
            # FF-A: the report's ids as the ids of the cookies (handles)
            as_cookie = ffa_cookie_ids(a.tool, a.key, lines) if ffa else {}
            for l in lines:
                m = re.search(r"teeshm-trace: kexec-registered id=([0-9a-f]+) size=(\d+)", l)
                if m:
                    i = as_cookie.get(m.group(1).zfill(16), m.group(1)) if ffa else m.group(1)
                    rep.add((i.zfill(16), shared(int(m.group(2)))))
                    raw.add(i)
            ended = any("teeshm-trace: kexec-end" in l for l in lines)
            sw = stale.get(n, {})
            ids = hash_ids(a.tool, a.key, list(sw))
            swset = {(ids[c], s) for c, s in sw.items()}
            # spelled as `teeshm-trace id` does (16 digits), not padded here
            if rep == swset:
                check("kexec %d: console ids == `teeshm-trace id` (16 digits)" % n,
                      raw == {i for i, _ in swset}, " ".join(sorted(raw)))
            ok = ended and rep == swset
            rows.append((n, len(rep), len(swset), ok))
            check("kexec %d: tool report == secure-world stale list" % n, ok,
                  "" if ok else "report-ended=%s tool %s sw %s" % (ended, sorted(rep), sorted(swset)))
            if a.expect_orphan:
                verify_orphan(a, n, lines, secure_per_boot(secure).get(n, []), sw, rep)
            # read back after the reboot from pstore by `last-kexec`
            pst, rc = None, None
            for l in boots.get(n + 1, []):
                m = re.match(r"TBL rc=(\d+) *(\{.*\})?", l)
                if m:
                    rc = int(m.group(1))
                    if m.group(2):
                        j = json.loads(m.group(2))
                        pst = {(as_cookie.get(b["id"], b["id"]), shared(b["size"])) for b in j["registered"]} \
                            if j.get("complete") else None
            if a.no_pstore:
                # the kernel writes no pstore record at kexec: last-kexec
                # must say it found no report (exit 2), not invent one
                okp = pst is None and rc == 2
                check("kexec %d: last-kexec finds no pstore report (none written)" % n, okp,
                      "" if okp else "rc %s pstore %s" % (rc, pst))
                continue
            okp = pst is not None and pst == rep and rc == (1 if rep else 0)
            check("kexec %d: last-kexec (pstore, next boot) == report" % n, okp,
                  "" if okp else "pstore %s report %s" % (pst, sorted(rep)))
        if a.expect == "some":
            check("every kexec left buffers registered (expected)", all(t > 0 for _, t, _, _ in rows) and rows != [])
        elif a.expect == "none":
            check("no kexec left anything registered (expected)", all(t == 0 and s == 0 for _, t, s, _ in rows) and rows != [])
        if a.expect_priv:
            priv = 0
            for n in range(1, a.kexecs + 1):
                for l in boots.get(n, []):
                    if l.startswith("TBS "):
                        priv = max(priv, json.loads(l[4:]).get("priv_registered", 0))
            check("tool found driver-private (PRIV) buffers registered", priv > 0, "max %d" % priv)
        print()
        print("  %-16s %-6s %-22s %-26s %s" % ("subject", "kexec", "leaks reported (tool)", "stale (secure world)", "agree"))
        for n, t, s, ok in rows:
            print("  %-16s %-6d %-22d %-26d %s" % (a.label or "-", n, t, s, "yes" if ok else "NO"))
        with open(a.rundir + "/matrix.tsv", "w") as f:
            for n, t, s, ok in rows:
                f.write("%s\t%d\t%d\t%d\t%s\n" % (a.label or "-", n, t, s, "yes" if ok else "no"))
    failed = results.count(False)
    print("%s: %d passed, %d failed" % (a.kind, results.count(True), failed))
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# mkdtb.sh OUT.dtb INITRD "BOOTARGS" [--no-secram] [--no-firmware-nodes] [--scmi-optee]
# QEMU's own DTB for the exact machine options, plus /psci and
# /firmware/optee (both method "smc": the project's EL3 firmware answers;
# not with --no-firmware-nodes: TF-A and OP-TEE add their own),
# /chosen (bootargs, initrd), and a reserved ramoops region for pstore.
# --scmi-optee: /firmware/scmi, an SCMI agent on OP-TEE's SCMI PTA, channel
# 0, messages in dynamic shared memory (no "shmem"): Linux's SCMI OP-TEE
# transport (kernel/AUDIT-7.3.md; OP-TEE's test server, optee/ 0005).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out=${1:?usage: mkdtb.sh OUT.dtb INITRD BOOTARGS [--no-secram] [--no-firmware-nodes] [--scmi-optee]}
initrd=$2
bootargs=$3
shift 3
nosecram= fwnodes=1 scmi=
for o in "$@"; do
	case $o in
	--no-secram) nosecram=$o ;;
	--no-firmware-nodes) fwnodes= ;;
	--scmi-optee) scmi=$o ;;
	*) die "mkdtb.sh: unknown option $o" ;;
	esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

qemu-system-aarch64 $QEMU_MACHINE -display none -machine dumpdtb="$tmp/q.dtb" \
	>"$tmp/qemu.log" 2>&1 || die "qemu could not dump its DTB: $(grep -v '^qemu: module' "$tmp/qemu.log")"
dtc -q -I dtb -O dts "$tmp/q.dtb" >"$tmp/q.dts"
if [ "$nosecram" = --no-secram ]; then
	# 5.10 maps a disabled memory node anyway: drop it
	awk '/secram@/{skip=1} skip&&/};/{skip=0; next} !skip' "$tmp/q.dts" >"$tmp/x.dts"
	mv "$tmp/x.dts" "$tmp/q.dts"
fi
size=$(stat -c %s "$initrd")
end=$(printf '0x%x' $((INITRD_ADDR + size)))
# drop QEMU's (empty) /chosen, then append ours
awk '/^\tchosen \{/{skip=1} skip&&/^\t};/{skip=0; next} !skip' "$tmp/q.dts" |
	sed '$d' >"$tmp/x.dts"
scmi_node=
if [ -n "$scmi" ]; then
	scmi_node='
		scmi {
			compatible = "linaro,scmi-optee";
			linaro,optee-channel-id = <0>;
			#address-cells = <1>;
			#size-cells = <0>;
		};'
fi
if [ -n "$fwnodes" ]; then
	cat >>"$tmp/x.dts" <<DTS
	psci {
		compatible = "arm,psci-1.0", "arm,psci-0.2";
		method = "smc";
	};

	firmware {
		optee {
			compatible = "linaro,optee-tz";
			method = "smc";
		};$scmi_node
	};

DTS
elif [ -n "$scmi" ]; then
	# OP-TEE adds /firmware/optee beside it
	cat >>"$tmp/x.dts" <<DTS
	firmware {$scmi_node
	};

DTS
fi
cat >>"$tmp/x.dts" <<DTS
	reserved-memory {
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;

		ramoops@7fe00000 {
			compatible = "ramoops";
			reg = <0x0 0x7fe00000 0x0 0x100000>;
			record-size = <0x20000>;
			console-size = <0x80000>;
			pmsg-size = <0x20000>;
			/* keep shutdown dumps: the kexec report is in them */
			max-reason = <4>;
		};
	};

	chosen {
		bootargs = "$bootargs";
		stdout-path = "/pl011@9000000";
		linux,initrd-start = <0x0 $INITRD_ADDR>;
		linux,initrd-end = <0x0 $end>;
	};
};
DTS
dtc -q -I dts -O dtb -o "$out" "$tmp/x.dts"

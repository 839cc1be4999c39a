#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Scenario 2: a libteec client allocates, registers, uses and frees shared
# memory through /dev/tee0 (the host checks the secure log's reg/unreg).
. /scenarios/lib.sh
load_tee
check modules-loaded $? ""
[ -c /dev/tee0 ]
check dev-tee0 $? "$(ls /dev/tee* 2>/dev/null | tr '\n' ',')"
teeshm-client --loops 3 --size 8192 >/tmp/client.out 2>&1
check client $? "$(tail -n1 /tmp/client.out | tr ' ' '_')"
teeshm-client --mark
check mark $? ""

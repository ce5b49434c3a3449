#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# mmap, lseek, O_ASYNC and fdinfo of /dev/resmgr-test across its unbind.

modprobe resmgr_test || { echo "resmgr_test not available"; exit 4; }
"$(dirname "$0")/resmgr-fops"
rc=$?
rmmod resmgr_test || rc=1
exit $rc

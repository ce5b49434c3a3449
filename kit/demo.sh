#!/bin/bash
# `make demo`: the user story. Not available until the chardev work lands.
echo "make demo: not yet available: it needs gpio_sim_rs and the resmgr_test chardev."
echo "Use 'make test' for what exists today."
exit 2

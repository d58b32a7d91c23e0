#!/bin/sh
# An init that will not halt: `swrun stop` must SIGKILL it after its timeout.
trap '' USR1 TERM PWR
while :; do sleep 1; done

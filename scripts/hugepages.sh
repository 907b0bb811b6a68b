#!/usr/bin/env bash
# Reserves 2 MiB hugepages and mounts hugetlbfs, for grod on real NICs and
# for the GRO benchmark (which uses hugepages when they are free, as a
# deployment does).  Needs root.  Idempotent.
#
#   scripts/hugepages.sh          # 1536 pages (3 GiB)
#   scripts/hugepages.sh 512      # 512 pages (1 GiB)
#
# Reservations made here last until reboot; for a permanent setup see
# docs/OPERATIONS.md ("Hugepages": kernel command line, 1 GiB pages).
set -euo pipefail

pages="${1:-1536}"
sys=/sys/kernel/mm/hugepages/hugepages-2048kB
mnt=/dev/hugepages

if [[ $(id -u) -ne 0 ]]; then
  echo "hugepages.sh: needs root (sudo $0 $pages)" >&2
  exit 1
fi
if [[ ! -d $sys ]]; then
  echo "hugepages.sh: this kernel has no 2 MiB hugepages ($sys missing)" >&2
  exit 1
fi
have=$(cat "$sys/nr_hugepages")
if ((have < pages)); then
  echo "reserving $pages x 2 MiB hugepages (had $have)..."
  echo "$pages" >"$sys/nr_hugepages"
  # The kernel reserves what it can find contiguous; say so when short.
  got=$(cat "$sys/nr_hugepages")
  if ((got < pages)); then
    echo "hugepages.sh: only $got of $pages pages could be reserved" \
      "(memory is fragmented: retry, or reserve at boot)" >&2
  fi
fi
if ! grep -q " $mnt hugetlbfs " /proc/mounts; then
  mkdir -p "$mnt"
  mount -t hugetlbfs -o pagesize=2M nodev "$mnt"
fi
echo "hugepages: $(cat "$sys/nr_hugepages") reserved," \
  "$(cat "$sys/free_hugepages") free, hugetlbfs on $mnt"

package node

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/kumo-cloud/kumo/internal/nodeapi"
)

// memoryReserveMiB is kept for the host and the agent.
const memoryReserveMiB = 1024

// measureCapacity fills the zero fields of c from the host: its CPUs, its
// memory less a reserve, and the size of the file system holding dataDir.
func measureCapacity(dataDir string, c nodeapi.Capacity) (nodeapi.Capacity, error) {
	if c.VCPUs == 0 {
		c.VCPUs = runtime.NumCPU()
	}
	if c.MemoryMiB == 0 {
		total, err := memTotalMiB()
		if err != nil {
			return c, err
		}
		c.MemoryMiB = max(total-memoryReserveMiB, total/2)
	}
	if c.DiskGiB == 0 {
		var st unix.Statfs_t
		if err := unix.Statfs(dataDir, &st); err != nil {
			return c, fmt.Errorf("statfs %s: %w", dataDir, err)
		}
		c.DiskGiB = int64(st.Blocks) * int64(st.Bsize) >> 30
	}
	return c, nil
}

func memTotalMiB() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kib, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/meminfo: %w", err)
			}
			return kib >> 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/meminfo: no MemTotal")
}

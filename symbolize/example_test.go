package symbolize_test

import (
	"fmt"
	"strings"

	"github.com/dropmon/dropmon/symbolize"
)

// Name drop locations the way the kernel prints %pS. Real callers use
// symbolize.Load(), which reads /proc/kallsyms.
func Example() {
	const kallsyms = `ffffffff81a3c000 t __udp4_lib_rcv
ffffffff81a3c9a0 T udp_v4_early_demux
ffffffffc0a00000 t veth_xmit	[veth]
`
	tab, err := symbolize.Parse(strings.NewReader(kallsyms))
	if err != nil {
		panic(err)
	}
	fmt.Println(tab.Format(0xffffffff81a3c5f1))
	fmt.Println(tab.Format(0xffffffffc0a00042))
	fmt.Println(tab.Format(0x1234))
	// Output:
	// __udp4_lib_rcv+0x5f1
	// veth_xmit+0x42 [veth]
	// 0x1234
}

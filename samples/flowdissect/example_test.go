package flowdissect_test

import (
	"encoding/hex"
	"fmt"

	"github.com/dropmon/dropmon/samples/flowdissect"
)

func ExampleDissect() {
	// An Ethernet frame: IPv4 from 192.0.2.1 to 198.51.100.7, TCP from port
	// 51000 to 443.
	frame, _ := hex.DecodeString("020000000002" + "020000000001" + "0800" +
		"45000028123440004006" + "0000" + "c0000201" + "c6336407" +
		"c738" + "01bb" + "00000001" + "00000000" + "5018ffff" + "00000000")
	var k flowdissect.Keys
	v, err := flowdissect.Dissect(frame, &k)
	if err != nil {
		panic(err)
	}
	fmt.Println(v)
	fmt.Println(k.String())
	// Output:
	// BPF_OK
	// nhoff=14 thoff=34 n_proto=0x0800 tcp 192.0.2.1:51000 > 198.51.100.7:443
}

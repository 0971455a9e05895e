// Command exitearly is a broken function: its main exits before it ever asks for an event.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "missing DATABASE_URL: cannot start")
	os.Exit(3)
}

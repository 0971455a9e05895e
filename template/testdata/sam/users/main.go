// A function without a go.mod of its own: it belongs to the module one folder up.
package main

import "fmt"

func main() { fmt.Println("users") }

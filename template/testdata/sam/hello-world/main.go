// The function of `sam init`'s Go hello-world, in its own module as sam init writes it.
// template.Read only checks that it is a main package; nothing builds it.
package main

import "fmt"

func main() { fmt.Println("hello world") }

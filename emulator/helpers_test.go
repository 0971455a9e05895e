package emulator_test

import "github.com/devserver/devserver/emulator/invocation"

func poolRequest(payload string) invocation.Request {
	return invocation.Request{Payload: []byte(payload)}
}

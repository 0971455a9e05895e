package emulator_test

import "github.com/devserver/devserver/emulator/pool"

func poolRequest(payload string) pool.Request { return pool.Request{Payload: []byte(payload)} }

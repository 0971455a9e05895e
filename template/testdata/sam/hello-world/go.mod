module hello-world

go 1.22

module example.com/sam-app

go 1.22

package notmain

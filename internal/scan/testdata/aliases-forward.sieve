require ["copy", "fileinto", "variables"];
# forward invoices to accounting
/* a bracket
   comment: redirect "no@gmai.com"; */
if header :contains "subject" "invoice" {
    redirect :copy "accounts@gmai.com";
    fileinto "Invoices";
} elsif address :is "from" "boss@example.org" {
    redirect "me@outlook.con";
} else {
    keep;
}
redirect "${user}@example.net";
redirect text:
multi@gmial.com
.
;
redirect "localuser";

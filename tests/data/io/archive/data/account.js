window.YTD.account.part0 = [
  {
    "account" : {
      "email" : "lane@example.org",
      "createdVia" : "web",
      "username" : "Inspector_Lane",
      "accountId" : "111",
      "createdAt" : "2011-03-02T09:15:00.000Z",
      "accountDisplayName" : "Inspector Lane"
    }
  }
]

window.YTD.follower.part0 = [
  {
    "follower" : {
      "accountId" : "2244994945",
      "userLink" : "https://twitter.com/intent/user?user_id=2244994945"
    }
  },
  {
    "follower" : {
      "accountId" : "5555",
      "userLink" : "https://twitter.com/intent/user?user_id=5555"
    }
  }
]

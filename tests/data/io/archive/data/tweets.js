window.YTD.tweets.part0 = [
  {
    "tweet" : {
      "edit_info" : { "initial" : { "editTweetIds" : [ "433900000000000000" ], "editableUntil" : "2014-02-14T10:00:00.000Z", "editsRemaining" : "5", "isEditEligible" : false } },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : { "hashtags" : [ ], "symbols" : [ ], "user_mentions" : [ ], "urls" : [ ] },
      "display_text_range" : [ "0", "38" ],
      "favorite_count" : "30",
      "id_str" : "433900000000000000",
      "truncated" : false,
      "retweet_count" : "12",
      "id" : "433900000000000000",
      "created_at" : "Fri Feb 14 09:00:00 +0000 2014",
      "favorited" : false,
      "full_text" : "Suspended for doing my job. Back soon.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "retweeted" : false,
      "entities" : { "hashtags" : [ ], "symbols" : [ ], "user_mentions" : [ { "name" : "Amy Example", "screen_name" : "AmyExample", "indices" : [ "0", "11" ], "id_str" : "2244994945", "id" : "2244994945" } ], "urls" : [ ] },
      "display_text_range" : [ "12", "30" ],
      "favorite_count" : "2",
      "in_reply_to_status_id_str" : "433912350000000001",
      "id_str" : "433950000000000000",
      "in_reply_to_user_id" : "2244994945",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "433950000000000000",
      "in_reply_to_status_id" : "433912350000000001",
      "created_at" : "Fri Feb 14 11:00:00 +0000 2014",
      "favorited" : false,
      "full_text" : "@AmyExample thank you, means a lot",
      "lang" : "en",
      "in_reply_to_screen_name" : "AmyExample",
      "in_reply_to_user_id_str" : "2244994945"
    }
  }
]

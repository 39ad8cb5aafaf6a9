window.YTD.tweets.part1 = [
  {
    "tweet" : {
      "retweeted" : false,
      "entities" : { "hashtags" : [ { "text" : "StandWithLane", "indices" : [ "44", "58" ] } ], "symbols" : [ ], "user_mentions" : [ { "name" : "Police Federation", "screen_name" : "PolFed", "indices" : [ "3", "10" ], "id_str" : "777", "id" : "777" } ], "urls" : [ ] },
      "display_text_range" : [ "0", "60" ],
      "favorite_count" : "0",
      "id_str" : "434300000000000000",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "434300000000000000",
      "created_at" : "Sun Feb 23 18:30:00 +0000 2014",
      "favorited" : false,
      "full_text" : "RT @PolFed: Officers deserve a fair hearing #StandWithLane",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "retweeted" : false,
      "entities" : { "hashtags" : [ { "text" : "Thanks", "indices" : [ "0", "7" ] } ], "symbols" : [ ], "user_mentions" : [ ], "urls" : [ { "url" : "https://t.co/q1", "expanded_url" : "https://twitter.com/NorthshirePolice/status/434250000000000000", "display_url" : "twitter.com/NorthshirePoli…", "indices" : [ "20", "43" ] } ] },
      "display_text_range" : [ "0", "43" ],
      "favorite_count" : "9",
      "id_str" : "434310000000000000",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "434310000000000000",
      "created_at" : "Sun Feb 23 19:00:00 +0000 2014",
      "favorited" : false,
      "full_text" : "#Thanks to everyone. https://t.co/q1",
      "lang" : "en"
    }
  }
]

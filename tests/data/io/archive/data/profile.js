window.YTD.profile.part0 = [
  {
    "profile" : {
      "description" : {
        "bio" : "Police inspector. Views my own.",
        "website" : "",
        "location" : "Northshire"
      },
      "avatarMediaUrl" : "https://pbs.twimg.com/profile_images/1/x.jpg"
    }
  }
]

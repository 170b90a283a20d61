"""Evaluation texts written for this project: never trained on, never taken from a data set.

They stand in for a newsroom's own comment section, which none of the public training sets is:
civil but heated reader comments under news stories, abusive ones in the same setting, modern
comment spam, and identity-term templates for the unintended-bias check of Dixon et al. (2018).
All are invented; names of people and places are fictional or public figures mentioned as readers do.
Keep them out of every training call: their value is that the model has never seen them.
"""

from __future__ import annotations

import re

# Civil, on-topic reader comments: political argument, sharp disagreement, crime/war/terror
# reporting words, identities discussed civilly, sports and local news, some informal or misspelt.
NEWS_COMMENTS: tuple[str, ...] = (
    # Politics and sharp disagreement with the writer or other readers.
    "This is the worst policy in a decade and the mayor should resign.",
    "I could not disagree more with this editorial. The council has wasted every penny it was given.",
    "The governor's budget is a disaster for rural schools, full stop.",
    "With respect, the writer has the numbers wrong: the deficit grew under both parties.",
    "Another spineless decision from a council that never listens to residents.",
    "This column is one-sided nonsense. Where is the other half of the story?",
    "The minister should be ashamed of this bill, and so should everyone who voted for it.",
    "I've voted Labour all my life and I am done with them after this.",
    "Conservatives talk about freedom and then ban books from the library. Make it make sense.",
    "Liberals keep promising affordable housing and rents keep going up. Results matter, not speeches.",
    "The president's speech was full of half-truths, and the fact-checkers said so.",
    "Tax cuts for the rich have never trickled down and they never will.",
    "If the senator can't explain where the money went, he should step down.",
    "This is a terrible deal for taxpayers and the paper should say so more plainly.",
    "Your editorial board endorsed this guy, so you own some of this mess.",
    "The opposition leader is right for once: the hospital waiting lists are a scandal.",
    "I think the reporter is too kind to the developer. This project stinks of cronyism.",
    "Term limits now. Nobody should be on the county board for 24 years.",
    "The prime minister lied about the cost of the program and everyone knows it.",
    "Ridiculous that we pay for a new stadium while the bridge is falling apart.",
    "Sorry but this is a lazy take. Crime is down, not up, if you read the actual report.",
    "To the commenter above: you're entitled to your opinion but not your own facts.",
    "You keep repeating that claim and it keeps being false. Look at the census data.",
    "I strongly disagree with Mark's comment. Raising the minimum wage did not kill jobs here.",
    "Both parties are bought and paid for by the same donors, sadly.",
    "Stop blaming immigrants for a housing shortage that zoning created.",
    "Defund the police? No. Fund them properly and hold them accountable? Yes.",
    "The union is right to strike. Teachers have had a pay freeze for six years.",
    "This strike is hurting the kids more than anyone, and both sides should be embarrassed.",
    "The referendum result was narrow and people are allowed to keep arguing about it.",
    "Pathetic turnout again. If you didn't vote, don't complain about the result.",
    "The council's plan is dead on arrival and they know it.",
    "Brexit has been an economic own goal, whatever your politics.",
    "Gun control works in other countries. Why do we pretend it couldn't work here?",
    "The Second Amendment is clear, and this law will be struck down in court.",
    "Abortion is a deeply personal issue and I don't think politicians should decide it.",
    "I'm pro-life and I still think this bill goes too far.",
    "The carbon tax is a cash grab dressed up as climate policy.",
    "Climate deniers have had thirty years to be proven right and haven't been.",
    "Honestly the police chief should be fired over how this investigation was handled.",
    "This mayor has been a failure on every issue he campaigned on.",
    "The party has lost its way. Reagan would not recognise it.",
    "Socialism has failed everywhere it's been tried, and this plan is socialism by another name.",
    "Capitalism without regulation gave us the 2008 crash. We should remember that.",
    "I'm tired of politicians who treat voters like fools.",
    "What a waste of taxpayer money. Heads should roll for this.",
    "The editorial is wrong, and frankly the paper's coverage of this race has been biased.",
    "Good grief, another consultant's report that says what the council wanted to hear.",
    # Crime, war and terror reporting words.
    "Two people were killed in the shooting and police are still looking for the gunman.",
    "The rape trial has been postponed again, which is cruel to the victim.",
    "The bomb that hit the market killed at least forty civilians, the article says.",
    "Calling the massacre a 'clash' is a disservice to the people who died there.",
    "The genocide in Rwanda happened while the world looked away. We should not forget it.",
    "My grandfather fought the Nazis, and he would be horrified by these marches.",
    "Nazi history should be taught in full in schools, including how ordinary people went along with it.",
    "The suspect was charged with murder, attempted murder and arson.",
    "Terrorists attacked the concert hall and the security services missed the warnings.",
    "A suicide bomber killed twelve people at the checkpoint, according to the army.",
    "The serial killer's victims deserve more attention than he does.",
    "The stabbing outside the school is the third this year. What is the city doing?",
    "Child abuse cases in the diocese were covered up for decades; the report is damning.",
    "He was convicted of sexual assault and got only two years. That is outrageous.",
    "The war has displaced millions, and winter is coming.",
    "Drone strikes killed a wedding party; the ministry denies it, but the photos are clear.",
    "The hostage crisis ended after the police stormed the building.",
    "Domestic violence calls went up during the lockdown, which the story should mention.",
    "Fentanyl is killing people in our town every week and the state has no plan.",
    "The murder rate has doubled since 2019 in this neighbourhood, per the police data.",
    "The executions were carried out in secret, which the human rights groups condemned.",
    "The police shot an unarmed man and the body camera footage is still not released.",
    "The ISIS fighters who were captured should face trial, not be left in camps.",
    "Ethnic cleansing is the correct term for what happened in that valley.",
    "The Holocaust denier in the story should not have been given a platform.",
    "The trial heard that the defendant beat his wife for years before killing her.",
    "Survivors of the bombing are still waiting for compensation, ten years on.",
    "My cousin was mugged at knifepoint at that station last month.",
    "I hope the drunk driver who killed those kids gets the maximum sentence.",
    "The article says the gang war left nine dead in one weekend. Terrible.",
    "They dropped cluster bombs on a city. That is a war crime under any definition.",
    "Hitler came to power through elections; that's why people worry about norms.",
    "The school shooter bought the rifle legally, which is the real story here.",
    "Human trafficking is a bigger problem in our state than people realise.",
    "The torture allegations at the prison need an independent inquiry.",
    "The soldiers accused of the killings say they were following orders.",
    "Lynching was used to terrorise Black communities for decades, and this memorial matters.",
    "Slavery built much of the wealth in this town, and the museum finally says so.",
    "The KKK rally drew about twenty people and two hundred counter-protesters.",
    "Russia's invasion has killed thousands of Ukrainian civilians.",
    "The hostages in Gaza and the civilians dying there both deserve our attention.",
    "The attack on the synagogue was an act of antisemitic terrorism, plain and simple.",
    "The mosque shooting was a hate crime and should be called one.",
    "Police say the victim was strangled and the body found in the river.",
    "The article about the overdose deaths was hard to read but important.",
    # Identity topics discussed civilly.
    "As a gay man who grew up in this town, I'm glad to see the pride flag at city hall.",
    "I'm a lesbian and a churchgoer, and I don't see a contradiction.",
    "My son came out as transgender last year; stories like this help families like ours.",
    "As a Muslim, I appreciate that the paper asked the mosque for comment.",
    "The Jewish community centre has fed half the neighbourhood during the strike.",
    "Black voters were turned away at that polling station, according to the lawsuit.",
    "White working class voters feel ignored by both parties, and they're not wrong.",
    "Asian American shop owners were targeted during the pandemic; that deserves coverage.",
    "The Mexican restaurant on Main Street has been there since 1978. Sad to see it close.",
    "Immigrants run half the small businesses on my street.",
    "Refugees from Syria have settled here and the kids are doing great at school.",
    "As a deaf reader, thank you for adding captions to the video.",
    "My brother is blind and the new crossings with audio signals have made a huge difference.",
    "Disabled people are still shut out of half the buildings downtown.",
    "Old people aren't a burden; they built this town.",
    "Young people can't afford to live here anymore, which is why they leave.",
    "I'm an atheist and I think the prayer at council meetings should stop.",
    "As a Christian, I think we should welcome refugees, not turn them away.",
    "The Sikh temple opened its kitchen to everyone after the flood.",
    "The Hindu festival downtown was lovely and very well organised.",
    "Feminists have been saying this about the pay gap for fifty years.",
    "Women in tech still face a lot of harassment, and the survey shows it.",
    "Indigenous leaders should have been consulted before the pipeline was approved.",
    "The Catholic hospital refused the procedure, which raises real questions about public funding.",
    "Arab Americans in Dearborn have been part of this state for a century.",
    "Nigerian nurses are keeping our hospital running, and the visa rules should reflect that.",
    "Latino turnout was higher than expected and the pundits missed it.",
    "Gay marriage has been legal for years now and the sky hasn't fallen.",
    "The bisexual characters in the show are written with a lot of care.",
    "Queer history is local history too; the exhibit is worth a visit.",
    "Chinese students make up a third of the engineering programme now.",
    "I'm a Buddhist and meditation has helped me through the worst year of my life.",
    "My wife is Hispanic and our kids are learning Spanish from their grandmother.",
    "Immigration should be debated without calling anyone an invader.",
    "Racism is real and so is progress; both can be true.",
    "Islam and Christianity share more history than most people realise.",
    # Sports, local news and everyday readers.
    "What a game last night! The keeper saved us in the 89th minute.",
    "The coach has to go. Three seasons, zero playoff wins.",
    "The referee killed the game with that penalty call, absolutely shocking decision.",
    "Our defence got destroyed in the second half. Brutal to watch.",
    "That hit was dirty and he deserved the suspension.",
    "The Leafs choke again. Every single year.",
    "Great to see the women's team finally getting front page coverage.",
    "The new bike lanes on Elm Street are great, but the parking situation is a mess.",
    "Does anyone know if the library is open on Sunday during the renovation?",
    "The farmers market was packed this weekend, great to see.",
    "The pothole on Fifth has been there since March. I've reported it three times.",
    "Thanks to the firefighters who saved the old mill. Heroes.",
    "The school board meeting ran until midnight again. Nothing was decided.",
    "Property taxes went up 9% and the snow still isn't cleared.",
    "Lovely story about the bakery. My grandmother used to take me there.",
    "Please fix the traffic lights at the junction before someone gets killed.",
    "Our street flooded again. The drains have not been cleaned in years.",
    "The new apartment towers will block the view for everyone on the hill.",
    "I saw the fire from my window, it was terrifying. Hope everyone got out.",
    "Rest in peace. He coached my son's team for ten years and everyone loved him.",
    "Congrats to the graduating class, especially the kids who did it while working.",
    "The dog park is a great idea, just make sure there are enough bins.",
    "Is the bus strike going to affect the school routes?",
    "The hospital parking fees are daylight robbery for families visiting sick kids.",
    "Why does the city need another consultant's report on the same intersection?",
    "Good article. I'd love a follow up on what happened to the old factory site.",
    "The weather service said the storm would miss us. It did not miss us.",
    "Our power was out for three days and the utility's updates were useless.",
    "The tunnel project is five years late and a billion over budget. Shameful.",
    # Informal style and typos.
    "lol this council cant organise a bake sale let alone a budget",
    "smh another 'study' paid for by the people who benefit from it",
    "wow. just wow. how is this guy still in office",
    "ppl need to read past the headline before commenting tbh",
    "this is a joke right?? 3 yrs and the bridge still isnt done",
    "Totaly agree with the previous comenter, the buses are always late",
    "god help us if this passes",
    "yeah no. the numbers dont add up and everyone knows it",
    "its not rocket science, build more houses and prices go down",
    "damn, that's a shame. loved that place",
    "Hell no to a new casino downtown.",
    "What the hell was the council thinking with this one?",
    "This is crap reporting, where's the other side?",
    "The policy is a dumb idea and it will cost us a fortune.",
    "Stupid decision by the league, the fans don't want a Thursday night game.",
    "Crazy how fast the rents went up, my landlord wants 400 more a month",
    "ugh the parking situation downtown is insane",
    "Oh please. Nobody believes the company didn't know about the leak.",
    "Its the same old story every election, promises promises.",
    "Sucks for the workers who lost their jobs at the plant.",
    "The hospital board keeps saying there is no money, then hires three more vice presidents.",
    "I lived through the riots in '92 and this is nothing like that, the headline is overblown.",
    "If the police had responded faster, maybe that girl would still be alive. Someone must answer for it.",
    "Great photos of the parade, the drag queens on the fire truck were the highlight for my kids.",
    "The bishop's apology for the abuse scandal came twenty years too late.",
    "Kudos to the reporter for digging through the court records on the arson case.",
    "Why is the paper calling it a 'disturbance'? Three people were shot. Call it what it is.",
    "The opposition is just as clueless. Nobody in that chamber has run a business.",
    "Whoever designed this roundabout should be made to drive it at rush hour every day.",
    "Frankly the whole board should resign, they've lost the confidence of every parent I know.",
    "Nazi salutes at a football match in 2026. Ban them for life, and good on the club for acting fast.",
    # Longer, paragraph-length comments.
    "I read the whole piece twice. The reporter did a good job laying out the timeline, but I think "
    "the story undersells how much the state knew in advance. The inspection reports from 2021 flagged "
    "the same cracks, and nobody acted on them. Someone should be held accountable for that.",
    "My family lived through the war in Bosnia. When I read comments calling the refugees here "
    "'economic migrants', I remember how we were spoken about. People flee because staying means dying. "
    "Please have some compassion, even if you disagree about the numbers.",
    "I disagree with almost everything in this op-ed. The author claims crime is out of control, but the "
    "city's own statistics show burglaries and assaults have fallen for three years. Fear sells papers, "
    "I understand, but it also drives bad policy.",
    "As someone who worked in the prison system for twenty years, I can tell you the overcrowding is "
    "real and it is dangerous for staff and inmates alike. The violence described in this article is "
    "not an exception. The minister's response is inadequate.",
    "The article mentions the shooting but not the fact that the shooter had been reported to police "
    "twice before. That is the part that makes me angry. Red flag laws exist for exactly this.",
    "I am a Muslim woman and I wear a headscarf. Most days nobody cares, which is how it should be. "
    "But after stories like this one, I get stared at on the bus. Thank you for including voices from "
    "the community rather than only politicians.",
    "The housing crisis is the result of decades of decisions by councils of every political colour. "
    "Blaming one party is easy and wrong. What we need is zoning reform, faster permits and public "
    "building on the scale of the 1950s.",
    "My dad was a coal miner and his lungs were destroyed by the job. When politicians talk about "
    "'bringing back coal' I want them to visit the hospital ward he died in. The transition needs to "
    "be fair, but it needs to happen.",
    "I was at the protest. It was peaceful until a small group started throwing bottles, and the police "
    "then charged everyone. Both things can be criticised. The story gets the sequence right.",
    "The teacher in this story deserves a medal. My kids had her for two years and she never gave up on "
    "anyone. Cutting the arts programme she built would be a real loss to the school.",
    "Thank you for covering the trial. The testimony about the abuse was horrifying, and it took enormous "
    "courage for the survivors to speak. I hope the sentence reflects what they went through.",
    "People keep saying the stadium will pay for itself. Every economist who has studied this says "
    "stadiums do not pay for themselves. Please, councillors, read the research before voting.",
    "I'm a veteran. I served two tours in Afghanistan. The way the withdrawal was handled was a disgrace, "
    "and the interpreters who helped us were abandoned. That is on leaders of both parties.",
    "As a transgender woman, I found this article fair. It let people on both sides speak, and it did "
    "not treat my existence as a debate topic. That is rarer than it should be.",
    "The mayor's plan to clear the homeless camps before the summer festival is cruel and pointless. "
    "The people will just move two blocks over. Spend the money on housing and treatment instead.",
    "I work night shifts at the hospital, and the stabbings we see every weekend are not in the "
    "statistics the minister quotes. The story should talk to emergency staff, not just officials.",
    "Honestly I think both the writer and the commenters are missing the point. The factory closed "
    "because demand dropped, not because of regulation or unions. Pretending otherwise helps nobody.",
    "Our synagogue received threats after the last election, and the police were very good about it. "
    "I wish the article had mentioned that churches and mosques in town have had the same problem.",
    "The coverage of the earthquake was excellent. Thank you to the photographers who went in while "
    "it was still dangerous. Donations can go to the Red Cross appeal linked at the bottom.",
    "Gender equality in sports still has a long way to go. The women's team won the league and got a "
    "smaller bus to the final than the men's reserve team. Small things, but they add up.",
    "I grew up in a Black neighbourhood that was bulldozed for the highway in the sixties. This "
    "history is why people here are suspicious of the new development, and the council should "
    "understand that instead of calling residents obstructive.",
)

# Abusive reader comments in the same news setting: insults at readers or the writer, obscenity
# aimed at people, dehumanising hate about groups, threats and obfuscated insults.
# Insults aimed at other readers.
INSULTS_AT_READERS: tuple[str, ...] = (
    "You are an idiot and everyone here can see it.",
    "Only a complete moron would believe this garbage.",
    "Shut up, you brain-dead troll.",
    "Are you really this stupid or do you just play it online?",
    "What a pathetic loser you are. Get a life.",
    "You're a worthless piece of trash and nobody cares what you think.",
    "Go back under your bridge, troll.",
    "You absolute clown, did you even read the article?",
    "Imagine being this dumb and proud of it.",
    "Your mother should have swallowed you.",
    "Nobody asked for your opinion, you fat ugly slob.",
    "You are a disgusting excuse for a human being.",
    "Typical libtard, crying about everything.",
    "Typical braindead MAGA cultist. Go lick your idol's boots.",
    "Keep posting, snowflake, your tears are delicious.",
    "You sound like a retard, seriously.",
    "Crawl back into your mom's basement, you virgin neckbeard.",
    "Get lost you halfwit, the adults are talking.",
    "You're too stupid to argue with. Bye, dumbass.",
    "What a sad, miserable little man you must be.",
    "Learn to read, imbecile.",
    "Every comment you post makes this site dumber. Moron.",
    "Hey Gary, you ignorant hillbilly, nobody wants you here.",
    "Your IQ must be room temperature.",
    "Sit down and shut your stupid mouth.",
    "You people are vile scum, all of you commenting here.",
    "Go choke on your own hypocrisy, you pig.",
    "You disgusting old hag, stop spamming the comments.",
    "Shut your mouth, bitch.",
    "What a whiny little bitch you are.",
    "You're a dick and your comment is a joke.",
    "Eat shit and die, troll.",
    "Go fuck yourself, nobody asked.",
    "You are full of shit and you know it.",
    "What an asshole. Seriously, what is wrong with you.",
    "Piss off, you sanctimonious prick.",
    "Only a douchebag like you would say that.",
    "Get bent, you dimwitted jackass.",
    "You uneducated redneck, go back to your trailer.",
    "Shut up, cuck.",
    "Nobody with half a brain agrees with you, dipshit.",
    "You're a lying, inbred hick and your family should be embarrassed.",
    "Go away, you toxic little gremlin, and take your idiot friends with you.",
    "Cry harder, you pathetic incel.",
    "Spoken like a true mouth-breathing imbecile.",
    "Your comment is as ugly as your face, you hideous troll.",
    "Man, you are thick as pig shit.",
    "You are a parasite and a leech on society.",
    "Kindly fuck off back to whatever hole you crawled out of.",
    "Another sad wanker who thinks he's clever.",
    "What kind of degenerate scumbag writes this?",
    "Ignorant fools like you deserve everything bad that happens to you.",
)
# Insults at the writer or the paper.
INSULTS_AT_WRITER: tuple[str, ...] = (
    "The writer of this trash is a hack and a liar.",
    "Who let this idiot write a column? Fire him.",
    "This reporter is a brainless bimbo who can't count.",
    "Another piece of garbage from the dumbest journalist in the country.",
    "The author is a lying sack of shit.",
    "Your editor must be a drooling moron to print this.",
    "Hey journo, go fuck yourself and your fake news.",
    "What a stupid cow this columnist is.",
    "Fire this useless twat immediately.",
    "This writer is a pathetic, talentless idiot.",
    "The so-called journalist is a spineless worm.",
    "This paper is run by retards and written by clowns.",
    "Only a cretin like this author could get it so wrong.",
    "Dumb bitch reporter strikes again.",
)
# Insults at politicians and people in the story.
INSULTS_AT_PEOPLE: tuple[str, ...] = (
    "The mayor is a corrupt piece of shit and should rot in jail.",
    "The senator is a senile old fool who should be put down.",
    "That fat pig of a governor should choke on his donuts.",
    "The councillor is a brain-dead whore for the developers.",
    "What a disgusting creep, he should be castrated.",
    "The victim's mother is a lying slut looking for money.",
    "The suspect is a subhuman animal, hang him.",
    "The coach is a fucking idiot, sack him now.",
    "That ref is a blind useless wanker.",
    "The minister is a lying bastard and everyone knows it.",
)
# Obfuscated insults and obscenity.
OBFUSCATED_ABUSE: tuple[str, ...] = (
    "you are an id10t",
    "f*ck off and take your opinions with you",
    "what a m0r0n, seriously",
    "sh!t for brains, this one",
    "stfu you dumb@ss",
    "go f u c k yourself",
    "you are such a b1tch",
    "fck off troll",
    "a$$hole of the year award goes to you",
    "ur a r3tard lmao",
    "st*pid c*nt",
    "kys loser",
    "eat a d!ck",
    "phuck you and your family",
    "what a stoopid idiut",
    "biatch please, nobody cares",
    "you absolute tw@t",
    "p1ece of sh1t",
    "shuttt upppp you idiottt",
    "MORON. MORON. MORON.",
)
# Dehumanising hate about groups.
GROUP_HATE: tuple[str, ...] = (
    "Muslims are vermin and should be thrown out of this country.",
    "Jews control the media and that's why this rag prints such lies.",
    "Gays are disgusting perverts and should stay away from our children.",
    "Immigrants are parasites who breed like rats.",
    "Black people are animals, look at the crime stats.",
    "These refugees are invaders and should be shot at the border.",
    "Transgender people are mentally ill freaks.",
    "Women are too stupid to vote, take it away from them.",
    "Mexicans are rapists and drug dealers, every one of them.",
    "Send all the Arabs back to the desert where they belong.",
    "Hindus are filthy cow worshippers.",
    "Gypsies are thieving scum, everyone knows it.",
    "Chinese people are dirty and brought this virus on purpose.",
    "Feminists are ugly man-hating dykes.",
    "Old people are useless and should hurry up and die.",
    "Disabled people are a waste of oxygen and taxpayer money.",
    "Those savages in Africa should be left to starve.",
    "Faggots like him are ruining this country.",
    "Kill all the towelheads.",
    "Filthy wetbacks are taking our jobs.",
    "Another n*gger thug, what a surprise.",
    "Christians are brainwashed morons who deserve to be mocked.",
    "Atheists are godless filth who will burn in hell.",
    "Catholic priests are all paedophiles, burn their churches.",
    "Lesbians just need a real man to fix them.",
    "Those dirty kikes are behind it as usual.",
    "Immigrants are cockroaches, spray them all.",
    "Roma people are subhuman and should be sterilised.",
    "Muslims should all be deported or locked up.",
    "Asians are sneaky rats, never trust them.",
    "Islam is a cancer and every Muslim is a terrorist.",
    "These chinks eat dogs and spread disease.",
    "Trannies are groomers, keep them away from kids.",
    "The gay agenda is filth and so are the people pushing it.",
    "Indians stink and should go back to their slums.",
)
# Threats.
THREATS: tuple[str, ...] = (
    "I know where you live and I'm coming for you.",
    "Someone should put a bullet in this reporter.",
    "Keep writing this and see what happens to you.",
    "I hope your whole family dies in a fire.",
    "The mayor deserves to be hanged from a lamppost.",
    "If I see you in town I will break your legs.",
    "People like you should be shot.",
    "Watch your back, journalist. We're watching you.",
    "I'd beat the shit out of you if you said that to my face.",
    "Somebody needs to burn down that mosque.",
    "Hope you get raped, you deserve it.",
    "I will find you and make you pay for this article.",
    "That judge should be dragged out and executed.",
    "You'll get what's coming to you, traitor.",
    "Die in a ditch, you miserable cow.",
)
# Longer abusive comments.
LONGER_ABUSE: tuple[str, ...] = (
    "Honestly, you are the most ignorant person I have ever seen on this site. Every single comment "
    "you write is stupid, and you are too thick to notice that everyone is laughing at you.",
    "This columnist is a pathetic attention whore who would write anything for clicks. Somebody "
    "please shut her up before she embarrasses the paper again, the dumb bitch.",
    "The people in that neighbourhood are animals. They breed like rabbits, live off our taxes and "
    "then cry racism when the police do their job. Wall it off and let them rot.",
    "I'm sick of reading comments by retards like you. Go back to school, learn to spell, and then "
    "maybe you'll understand why everyone thinks you're a joke.",
    "Every Muslim in this country is a ticking bomb. Stop letting these savages in and deport the ones "
    "already here before they blow us all up.",
    "To the moron who wrote 'crime is down': you are a lying piece of shit, and I hope you get mugged "
    "so you learn something.",
    "The writer should be ashamed. Actually, she should be fired and then run out of town, the "
    "lying cow. Scum like her are the reason nobody trusts the press.",
    "Look at this clown defending the mayor. You're either on the payroll or you're the dumbest "
    "person alive. Probably both, you spineless suck-up.",
    "Gay people are an abomination and this paper should be ashamed for promoting their sick lifestyle. "
    "Disgusting degenerates, all of them.",
    "You libtards are all the same: whiny, useless, and too stupid to see you're being played. "
    "Go cry in your safe space, losers.",
)
# By kind, for measuring the attributes that name a kind of abuse (moderation.model.attributes).
ABUSIVE_KINDS: dict[str, tuple[str, ...]] = {
    "insults_at_readers": INSULTS_AT_READERS,
    "insults_at_writer": INSULTS_AT_WRITER,
    "insults_at_people": INSULTS_AT_PEOPLE,
    "obfuscated_abuse": OBFUSCATED_ABUSE,
    "group_hate": GROUP_HATE,
    "threats": THREATS,
    "longer_abuse": LONGER_ABUSE,
}
ABUSIVE_COMMENTS: tuple[str, ...] = tuple(text for kind in ABUSIVE_KINDS.values() for text in kind)

# Modern comment spam, with and without links.
SPAM_COMMENTS: tuple[str, ...] = (
    # Crypto and forex "investment".
    "I started trading bitcoin with Mrs. Olivia Grant and now I earn $15,000 every week. Contact her on "
    "WhatsApp +1 (415) 555-0193.",
    "Thanks to Expert Daniel Moore I made $27,400 from a $1,000 investment in crypto. Email him: "
    "danielmoorefx@gmail.com",
    "Bitcoin is the future! Invest with CryptoPrime and double your money in 7 days: cryptoprime-invest.com",
    "I was scammed before but then I found forex trader Mr. James Carter who recovered my funds. "
    "Telegram @JamesCarterFX",
    "Anyone interested in a legit crypto mining platform with 3% daily returns? DM me for details.",
    "Stop working for peanuts. My forex signals group made 400% this month. Join: t.me/forexkings_vip",
    "Earn passive income with our AI trading bot, no experience needed. Sign up at aitradebot.io",
    "Who else is investing with Mrs. Sophia Lewis? She changed my life, I paid off my mortgage in 3 months!",
    "Get 0.5 BTC free when you register today at btc-bonus-claim.net. Limited slots!",
    "Crypto recovery experts: lost money to a scam? We recover 100% of your funds. Email recoverypro247@outlook.com",
    "I never believed in online investment until I met Mr. Robert Hayes. $5k became $43k in a month. "
    "Look him up on Instagram @roberthayes_trades",
    "Nobody talks about how easy it is to make money with binary options. I earn 8k weekly with Expert "
    "Linda. WhatsApp: +44 7700 900812",
    "New meme coin launching tonight, 1000x guaranteed. Buy before it pumps: moonrocket-token.xyz",
    "Forex trading is the best way to escape the rat race. Message me to learn how I made $200k this year.",
    "Don't let inflation eat your savings. Put your money in gold-backed crypto with 25% monthly yield: "
    "goldchain.finance",
    # Work from home and easy money.
    "I'm making $95 an hour working from home. I was shocked when my neighbour told me she was averaging "
    "$12k a month. Go to this site: homejobs-today.com",
    "Google is paying $350 per hour for simple online work. I got my first check of $18,000 last month. "
    "Copy this site: www.easywork247.com",
    "My aunt makes $80/hr on her laptop. She has been out of work for ten months but last month her pay "
    "was $16,000 just working online. Read more here: cashlaptop.net",
    "Start earning today with no skills needed! Just 2 hours a day from your phone. Details at workphonejobs.info",
    "I quit my job and now make 10k a month online. Ask me how!",
    "Be your own boss, earn thousands weekly from home. Click the link in my profile.",
    "Looking for 20 serious people who want to earn $500 a day from home. Reply YES and I'll send the details.",
    "Get paid to fill surveys! $50 per survey, instant PayPal payout. Sign up at surveycashnow.com",
    "Amazon is hiring home reviewers, $40 per review, no experience needed. Apply at amazonreviewjobs.work",
    "Moms, earn extra cash while the kids are at school. No selling, no MLM. Visit momsincome.org",
    "Single mom makes $8,000/month from home with this one simple trick!",
    "Make money online fast!!! Guaranteed income from day one, visit fastcashonline.biz",
    # Loans, casinos, betting.
    "Need a loan? Bad credit OK, instant approval up to $50,000. Apply now at quickloansdirect.com",
    "Payday loans with no credit check, money in your account in 1 hour. Call 1-800-555-0147.",
    "Are you in debt? Get a loan at 2% interest from a trusted private lender. Email lendersolutions@gmail.com",
    "Best online casino of 2026: 200 free spins on registration! Play now at luckyspins-casino.com",
    "Win big tonight! Get a $500 welcome bonus at our sportsbook with promo code NEWS500.",
    "Free bets for every match this weekend, join now: bet-kings.club",
    "I won $12,000 playing slots online last night, this casino really pays! royalslotsvip.com",
    "Debt consolidation made easy, cut your payments in half. Free consultation at debtfreenow.us",
    "Guaranteed loan approval even with bankruptcy. Text LOAN to 55123.",
    # Channels, followers, SEO.
    "Check out my channel for the best gaming videos! Subscribe and I'll sub back!",
    "Hey guys please subscribe to my YouTube channel, I post new music every week",
    "Great article! I wrote about the same topic on my blog, check it out: www.mytopnewsblog.com",
    "Nice post. For more information on home insurance visit bestinsurancequotes.org",
    "Very informative, thanks for sharing. Visit our website for cheap flights: flydealz.net",
    "Buy 10,000 Instagram followers for only $9.99 at followerboost.shop",
    "Want more views? Real YouTube subscribers delivered in 24 hours: subsboost.io",
    "I really like this article. I have a website about SEO services, please visit seo-rank-pro.com",
    "Follow me on TikTok @dance_queen_2026 for daily videos!!",
    "Check out my new song on Spotify, link in bio, it would mean the world",
    "Please watch my video and give me a thumbs up, I'm trying to reach 1000 subs",
    "Great read! Also check out our handmade jewelry at etsy.com/shop/sparklesbyanna",
    "Thank you for this wonderful article. Our company offers the best essay writing service: essaysfast.net",
    "Interesting post. Looking for a plumber in Dallas? Call DFW Plumbing Pros at 214-555-0182.",
    "Hi, nice blog! I'd love to guest post on your site, we pay $100 per link. Contact seo@linkbuilders.co",
    "Free movies and TV shows streaming in HD, no sign-up: watchfreehd.top",
    "Download the latest cracked software for free at freecrackzone.ru",
    # Fake pharmacy and health.
    "Buy Viagra online without prescription, discreet shipping worldwide: cheapmeds-rx.com",
    "Cialis, Xanax, Tramadol at 70% off. No prescription needed. Order at pharmadirect24.net",
    "Lose 20 pounds in 2 weeks with this keto pill doctors don't want you to know about!",
    "This miracle supplement cured my diabetes in one month. Get yours at sugarfreelife.info",
    "Buy Ozempic without a prescription, fast delivery, message me on WhatsApp.",
    "Male enhancement pills, guaranteed results or your money back. Visit maxpower-pills.com",
    "Hair loss? Our natural formula regrows hair in 30 days. 50% off today only!",
    "CBD gummies that cured my anxiety and back pain, order now at calmcbdgummies.store",
    "Get your medical marijuana card online in 10 minutes: greencardfast.org",
    "Anti-aging cream that Hollywood stars use, free trial, just pay shipping!",
    # Dating.
    "Lonely? Hot singles in your area are waiting to chat. Sign up free at meetlocalsingles.com",
    "Hi handsome, I'm Anna, 24, looking for a serious man. Write me at anna.love94@mail.ru",
    "Want to meet beautiful Ukrainian women? Visit brides-ukraine.net today!",
    "I'm new here and lonely, check my profile for private photos ;)",
    "Sexy girls want to meet you tonight, no credit card needed: hotdates24.xyz",
    "Looking for a sugar daddy? Or a sugar baby? Join sugarmatch.club now.",
    # Prizes, phishing, scams.
    "Congratulations! You've been selected to receive a $1,000 Walmart gift card. Claim it here: walmart-reward.win",
    "You have won an iPhone 17! Click here to claim your prize before midnight.",
    "URGENT: your account has been suspended. Verify your details at secure-bank-verify.com",
    "Free iPad giveaway for the first 100 people who share this link!",
    "Claim your free Amazon voucher worth $500 at amazon-voucher-gift.com",
    "I got a free PS5 from this site, they are giving away 500 today: ps5giveaway.online",
    "Your parcel could not be delivered. Pay the £1.99 fee at royalmail-redelivery.info",
    "Get a free government grant of $9,000, you don't have to pay it back. Call now!",
    "Spell caster Dr. Okoro brought my ex back in 48 hours. Contact him at drokorospell@gmail.com",
    "Powerful love spells that work fast, email spellhome@yahoo.com, Dr. Zuma has helped thousands.",
    "Dr. Bello cured my herpes with herbal medicine, contact him on WhatsApp +234 803 555 0199.",
    "My husband left me but Priest Ade brought him back with a spell. Email priestade@gmail.com",
    "Hack any Instagram or WhatsApp account, recover lost passwords, contact cyberhackerpro on Telegram.",
    "Get a real UK passport or driving licence, registered in the database. Email docsupply@protonmail.com",
    # Without links, still spam.
    "Make $3000 a week from home. Ask me how, DM me now!!!",
    "WhatsApp me for the best investment opportunity of the year.",
    "Text me at 555-0166 for cheap car insurance quotes.",
    "Earn money fast! Message me for details, serious people only.",
    "Subscribe to my channel for free giveaways every week!",
    "Need followers? I can get you 10k in a day, message me.",
    "Who wants free Robux? Check my profile!",
    "Selling cheap Rolex watches, genuine quality, message me for prices.",
    "Best SEO services at the lowest prices, contact us today for a free audit.",
    "Call now for a free quote on solar panels, 0% financing available!",
    "Join my team and earn commission on every sale, amazing opportunity for stay at home parents!",
    "Limited offer!!! Buy 1 get 3 free, only today!!!",
    "Earn 500 USD daily with our proven system, contact me via WhatsApp.",
    "Looking for partners for a business opportunity with huge returns, inbox me.",
    "I can help you make 5k a week online, no scam, message me.",
    "Become a member of the Illuminati today and receive wealth and power, call agent Mark.",
    "Cheap flights to anywhere, 80% off, inbox me for booking.",
    "Get rich with my online course, only 3 spots left!",
    "Hire me for cheap logo design, 24h delivery, DM for portfolio.",
    "Dm me for wholesale prices on designer handbags.",
    # Spam dressed up as a comment on the story.
    "Such a sad story. By the way, if anyone needs extra income, I make $400 a day from home at workathomenow.com",
    "Great reporting as always! PS: I just paid off my student loans thanks to crypto, ask me how.",
    "The mayor is useless. Anyway, I earn $90 an hour online, details on my profile.",
    "Totally agree with the article. Speaking of money, check out this forex group: t.me/profitsignals",
    "RIP to the victims. Also, visit my page for free gift cards!",
)

# Identity terms as adjectives ("{} people" reads naturally for all of them).
IDENTITY_TERMS: tuple[str, ...] = (
    "gay", "lesbian", "bisexual", "transgender", "queer", "straight", "heterosexual", "homosexual",
    "muslim", "jewish", "christian", "hindu", "buddhist", "sikh", "atheist", "catholic", "protestant",
    "mormon", "black", "white", "african american", "asian", "latino", "hispanic", "mexican", "chinese",
    "indian", "arab", "immigrant", "refugee", "deaf", "blind", "disabled", "old", "young", "female",
    "male", "feminist", "african", "european", "american", "canadian", "nigerian", "japanese", "korean",
    "middle eastern", "indigenous", "trans", "nonbinary", "elderly",
)

# Civil sentences: any flag here is a false positive, and it should not depend on the term.
NEUTRAL_TEMPLATES: tuple[str, ...] = (
    "As a {} person, I think the council got this right.",
    "I am {}.",
    "I am a {} person, ask me anything.",
    "My neighbour is {} and helped us after the flood.",
    "{} people deserve the same rights as everyone.",
    "Being {} is just part of who I am.",
    "The article quotes several {} residents about the new bus routes.",
    "My best friend is {} and we have known each other since school.",
    "Our new councillor is {} and grew up on this street.",
    "The {} community organised a food drive for the shelter.",
    "I'm {} and I agree with the editorial about the school budget.",
    "The survey asked {} voters about housing costs.",
    "A {} teacher at the high school won the state award this year.",
    "Many {} families have lived in this town for generations.",
    "The festival celebrated {} artists and musicians.",
    "My doctor is {} and always takes time to explain things.",
    "Hello, I am a {} nurse working nights at the hospital.",
    "The report found that {} workers were paid less for the same job.",
)

# Abusive sentences about the same terms: every one of them should score above every neutral one.
ABUSIVE_TEMPLATES: tuple[str, ...] = (
    "{} people are disgusting and should be removed from this country.",
    "I hate {} people.",
    "All {} people are vermin.",
    "{} people are filthy animals.",
    "Kill all {} people.",
    "{} people are stupid and worthless.",
    "Get those {} freaks out of our town.",
    "I would never let a {} person near my children, they are sick.",
    "{} people are a plague on this country.",
    "Every {} person is a lying piece of trash.",
    "{} people should be shot.",
    "Nobody wants you here, you {} scum.",
)


# Terms written with a capital letter in English (religions, peoples, nationalities).
_PROPER: frozenset[str] = frozenset({
    "muslim", "jewish", "christian", "hindu", "buddhist", "sikh", "catholic", "protestant", "mormon",
    "african american", "asian", "latino", "hispanic", "mexican", "chinese", "indian", "arab", "african",
    "european", "american", "canadian", "nigerian", "japanese", "korean", "middle eastern",
})
# "European" starts with a vowel letter but a consonant sound.
_AN = re.compile(r"\b([Aa]) (?=\{\})")


def display(term: str) -> str:
    """Return an identity term as it is written in a sentence."""
    return term.title() if term in _PROPER else term


def fill(template: str, term: str) -> str:
    """Return template with the term in it: right article, capitals for proper terms and sentence starts."""
    word = display(term)
    if word[0].lower() in "aeiou" and not word.lower().startswith("eu"):
        template = _AN.sub(lambda match: match.group(1) + "n ", template)
    text = template.format(word)
    return text[0].upper() + text[1:]

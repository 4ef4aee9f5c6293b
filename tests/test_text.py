from __future__ import annotations

import pytest

from longform.text import (
    count_words,
    detect_language,
    ends_cleanly,
    has_degenerate_loop,
    is_cjk_char,
    ngram_repetition,
    split_paragraphs,
    split_sentences,
    tail_words,
    trim_incomplete_tail,
    truncate_words,
    words,
)

ENGLISH_PROSE = """\
# A Short History of Tea

## Origins in the Southwest

Long before it crossed oceans, tea was a bitter leaf chewed by hill peoples in the borderlands where
Yunnan meets Burma and Laos. Botanists still argue about where Camellia sinensis first grew wild, but
most agree that the old forests of that region hold trees several centuries old. Villagers there
picked leaves, pressed them into bamboo tubes and carried them down to market towns. What began as a
medicine, valued for keeping travellers awake on mountain paths, slowly became a daily habit.

Chinese legend gives the discovery to Shennong, a mythical emperor who tasted hundreds of plants to
learn which could heal. According to the story, a few leaves drifted into a pot of water he was
boiling, and the brew refreshed him so much that he recommended it to everyone. Historians treat the
tale as a charming invention, yet it captures something true: for a long time people drank tea for
its effects on the body rather than for pleasure.

## The Tang and Song Dynasties

By the eighth century tea had become fashionable at court. Lu Yu, an orphan raised in a Buddhist
monastery, wrote The Classic of Tea around 760, the first book devoted entirely to the subject. He
described how to pick, steam, pound and dry leaves into cakes, how to judge water from springs,
rivers and wells, and which bowls showed the colour of the liquor best. His advice was practical and
opinionated; he disliked adding onion, ginger or orange peel, which many drinkers still did.

Under the Song, powdered tea whisked into a froth replaced boiled cakes among the elite. Scholars held
contests in which they judged the whiteness of the foam and how long it clung to the sides of a dark
glazed bowl. Emperor Huizong, a gifted painter and a poor ruler, wrote his own treatise on the art.
Monks carried the whisked style to Japan, where centuries later it would grow into the tea ceremony,
with its quiet rooms, seasonal flowers and carefully choreographed gestures.

Tea also shaped the frontier. Horses from the steppe were scarce in the south, while nomads craved the
leaf to balance a diet of meat and milk. Government offices ran a trade of bricks for stallions along
routes that climbed into Tibet, and porters bent under loads heavier than themselves walked for weeks
through snow. Those paths, sometimes called the Tea Horse Road, tied distant economies together long
before railways did.

## Loose Leaf and the Ming Reform

The founder of the Ming dynasty, who had grown up poor, banned the labour-intensive pressed cakes
that tribute farmers were forced to make. Loose leaves steeped in a pot became the norm, and with them
came new shapes of teaware. Potters in Yixing, near Lake Tai, made small unglazed pots from purple clay
that were said to absorb the aroma of each infusion. A good pot, seasoned over years, was believed to
make even plain water taste faintly of tea.

Processing changed as well. Farmers learned to halt oxidation by firing leaves in hot woks, which kept
them green, or to let them bruise and darken in the air before drying. From these choices came the
families we know today: green, yellow, white, oolong, black and the fermented dark teas of Hunan and
Yunnan. Each region guarded its methods, and names such as Longjing or Wuyi became brands that traders
trusted.

## Crossing to Europe

Portuguese sailors and Jesuit missionaries mentioned tea in letters during the sixteenth century, but
it was the Dutch who first shipped it to Europe in quantity. In London the drink arrived in
coffeehouses around 1650, advertised as a cure for headaches, gout and drowsiness. When Catherine of
Braganza married Charles II in 1662, she brought the habit of drinking it at court, and aristocratic
women quickly made it their own.

Taxes were high, so smuggling flourished. By some estimates, more tea entered Britain illegally than
through customs for much of the eighteenth century. Dealers mixed leaves with ash, sloe or sheep dung
to stretch their stock, and reformers wrote pamphlets warning about adulteration. Only when Parliament
cut the duty sharply in 1784 did legal imports overtake the black market and prices fall within reach
of ordinary families.

In the American colonies, a tax on the leaf became a symbol of distant rule. In December 1773 men
dressed loosely as Mohawk warriors boarded three ships in Boston harbour and dumped 342 chests into the
water. The protest hardened positions on both sides of the Atlantic and helped push the colonies
toward open rebellion. Coffee, cheaper and patriotic, gained ground in the young republic afterwards.

## Empire, Opium and Plantations

Britain's appetite created a problem: China wanted silver, not woollens, in exchange. Merchants solved
it by selling opium grown in Bengal to Chinese buyers, a trade that Beijing tried to stop. Two wars
followed, and the treaties that ended them opened ports, ceded Hong Kong and left deep resentment. It
is hard to separate the history of the afternoon cup from the violence that financed it.

The East India Company also wanted a supply it controlled. In 1848 the botanist Robert Fortune
travelled through inland China in disguise, collecting seeds, seedlings and skilled workers for
plantations in the Himalayas. Meanwhile, a native variety was found growing in Assam. Estates cleared
jungle across Assam, Darjeeling and later Ceylon, where a coffee blight had ruined the previous crop.
Labourers recruited on harsh contracts did the picking, often under conditions close to servitude.

## Everyday Rituals

As prices fell, habits multiplied. Anna, Duchess of Bedford, is credited with filling the long gap
between lunch and dinner with bread, butter and a pot at five o'clock. Factory workers took strong
sweet mugs during short breaks, and temperance campaigners promoted the drink as a sober alternative
to gin. In Russia the samovar sat at the centre of family life; in Morocco green tea with fresh mint
and plenty of sugar is poured from a height to raise a foam.

Across South Asia, chai vendors boil leaves with milk, sugar, cardamom and ginger, then pour the mix
between two vessels to cool it. That style spread only in the twentieth century, partly thanks to
campaigns by growers who wanted domestic buyers. In Tibet, butter tea churned with salt sustains
herders at altitude, and in Hong Kong a silky milk tea strained through a cloth bag became a staple of
busy diners.

## Industrial Tea

Technology reshaped the product. The tea bag, reportedly popularised when a New York merchant sent
samples in silk pouches around 1908, made brewing fast and tidy. In the 1930s planters in India
developed a method called crush, tear, curl, which chopped leaves into small granules that steeped
quickly and gave a strong, dark cup. Most supermarket blends still depend on it.

Iced tea, sold at the St. Louis World's Fair in 1904 during a heat wave, became an American favourite.
Bottled and canned versions now fill vending machines across East Asia. Instant powders, flavoured
syrups and ready-to-drink cartons extend the market further, though connoisseurs complain that they
flatten the complexity that careful processing once produced.

## Taste, Terroir and Trade Today

Since the 1990s, specialty shops have revived interest in single-estate leaves, aged pu'er and small
batches of rare oolong. Buyers talk about altitude, soil and harvest date in the vocabulary of wine.
Auctions for prized cakes have reached prices that would astonish the farmers who first pressed them.
At the same time, many growers earn little, and certification schemes try, with uneven success, to
raise wages and protect forests.

Climate change adds fresh pressure. Irregular monsoons, hotter summers and new pests threaten yields
in Kenya, Sri Lanka and northeast India. Researchers are breeding hardier cultivars, while some
estates plant shade trees and cover crops to hold moisture in the soil. Whether those measures work
will decide the livelihoods of millions of pickers, most of them women.

## Japan and the Way of Tea

When the monk Eisai returned from China in 1191, he brought seeds and a short book praising tea as a
remedy for almost every ailment. Zen temples adopted the whisked green powder, partly to keep monks
alert during long hours of meditation. Warlords later staged lavish gatherings to display imported
bowls, and a single famous jar could be worth more than a castle.

Sen no Rikyu pushed in the opposite direction. He favoured tiny rustic huts entered through a low
door, rough local pottery and a mood of deliberate simplicity. Guests crawled inside as equals,
whatever their rank outside. His ideas, often summed up as harmony, respect, purity and tranquillity,
still guide schools that teach the ceremony, even though Rikyu himself was ordered by his patron
Hideyoshi to take his own life in 1591.

Everyday Japanese drinking looks very different. Sencha, steamed and rolled into needles, became
popular in the eighteenth century, and today roasted hojicha, barley infusions and bottled green tea
are sold in every convenience store. Farmers near Uji and Shizuoka shade their bushes for weeks before
harvest to produce sweet, intensely green leaves that are ground for matcha.

## What Is in the Cup

Chemists have identified hundreds of compounds in the leaf. Caffeine supplies the stimulus, while an
amino acid called theanine seems to smooth its edge, which may explain why many drinkers describe
feeling alert but calm. Polyphenols known as catechins give green tea its astringency; during
oxidation they combine into larger molecules that lend black tea its colour and body.

Claims about health deserve caution. Large observational studies link regular drinking with lower
rates of heart disease, yet people who drink tea may differ from those who do not in diet, income and
exercise. Laboratory results on cells rarely translate neatly into benefits for whole humans. What can
be said with confidence is that unsweetened tea is a pleasant way to take in water, and that very hot
liquid may irritate the throat.

## Words Over the Teapot

Writers have long used the tea table as a stage. Poets of the Tang praised the clarity a cup brought
to the mind, and one famous verse counts the effects of seven bowls, the last of which makes the
drinker feel a breeze lifting him toward the immortals. Japanese haiku return again and again to the
sound of the kettle and the first picking of spring.

In English fiction, the drink marks class and manners. Jane Austen's characters judge one another
over cups and saucers, Dickens fills his kitchens with steaming pots, and Lewis Carroll turns the
custom upside down with a mad party where it is always six o'clock. George Orwell even published a
list of eleven rules for making a proper cup, insisting that milk go in after the tea and that sugar
ruins everything.

## Brewing at Home

Good tea does not require expensive equipment. Fresh water, a vessel that holds heat and a little
attention to time matter more than anything else. Delicate green leaves prefer water well below the
boil, often around seventy or eighty degrees, and short steeps of one or two minutes. Black teas and
most dark teas tolerate boiling water and longer infusions, while oolongs reward several brief rounds
in a small pot.

Many people overfill their cups with leaf or forget them in the water, then conclude that they
dislike bitterness. Trying the same tea at different strengths is the quickest way to learn what
suits you. Loose leaves usually unfold better than the dust inside cheap bags, and a simple strainer
or a glass jar works perfectly well for a start.

## The Price of a Cup

A box of ordinary bags costs little in most shops, which hides the labour behind it. Leaves are still
picked largely by hand on many estates, two leaves and a bud at a time, and a skilled worker may need
to gather tens of thousands of shoots to make a few kilograms of finished product. Wages in several
producing countries remain among the lowest in their agricultural sectors.

Some buyers now pay premiums for traceable lots, and a few cooperatives sell directly to foreign
customers online. Others argue that lasting change requires stronger unions, fair land rights and
public investment in rural schools and clinics. Whichever view prevails, the economics of the cup
will shape the next chapter of the story as much as any new flavour.

## Why It Endures

Tea has lasted because it adapts. It can be a bowl of foam in a silent room, a pot shared by
grandparents and children, or a paper cup gulped between meetings. It carries memories of empire and
exploitation as well as hospitality and calm. Few plants have travelled so far or gathered so many
meanings along the way.

Perhaps the simplest explanation is the oldest one. A warm cup gives a small pause in a crowded day,
a reason to sit down and talk. People have made that pause in monasteries and mills, on mountain
roads and in city offices, for well over a thousand years. As long as leaves keep growing on those
hillsides, someone will be waiting for the kettle to boil.
"""

CHINESE_PROSE = """\
# 城市与河流

一座城市的性格，往往藏在它的河流里。早在人们学会修筑城墙之前，河岸就是最理想的居住地：有水可饮，有鱼可捕，有肥沃的冲积土可以耕种。
考古学家在许多古城遗址下面都发现了古老的河道，陶片、骨器和木桩层层叠压，说明先民们一代又一代地在同一片水边生活。

河流也决定了城市的形状。沿着河道延伸的街巷往往弯弯曲曲，顺着水势起伏；码头附近聚集着仓库、客栈和茶馆，热闹非凡。
许多江南小镇至今保留着前街后河的格局，居民推开后门就能洗菜淘米，撑船的人在窗下吆喝着经过。

## 运河的时代

隋朝开凿大运河，把南方的稻米和丝绸源源不断地运往北方。这条人工水道全长两千多公里，沟通了五大水系，被后人称为古代中国的经济动脉。
沿线的扬州、淮安、临清等地因漕运而兴盛，商贾云集，盐商修建的园林精巧雅致，至今仍吸引着游客驻足。

然而运河的维护代价极高。黄河频繁改道，泥沙淤塞河床，朝廷不得不年年征调民夫疏浚。明清两代设立专门的漕运总督和河道总督，管理船只、闸坝和仓储。
到了十九世纪，海运和铁路逐渐兴起，漕运停止，许多曾经繁华的码头城镇随之衰落，只留下斑驳的石阶和废弃的水闸。

## 污染与治理

二十世纪下半叶，工业化带来了新的难题。工厂把废水直接排入河中，城市人口迅速增加，生活污水也缺乏处理。
不少河段变得又黑又臭，鱼虾绝迹，沿岸居民只能关紧窗户。那时候的孩子很难想象，父辈们曾经在这些河里游泳、摸螺蛳。

转变始于严格的环境法规和大规模的投资。各地陆续建设污水处理厂，截断排污口，清理河底的淤泥。
有的城市推行河长制，让地方官员对具体河段的水质负责，考核结果与政绩挂钩。经过十几年的努力，一些河流重新变得清澈，白鹭又回到了浅滩上觅食。

## 水岸的新生

治理之后，人们开始重新思考河岸的用途。过去用水泥砌成的直立堤岸虽然坚固，却隔绝了人与水的联系。
设计师们尝试用缓坡、湿地和透水铺装代替硬质护岸，让雨水能够渗入地下，也让市民可以走到水边。

在上海，黄浦江两岸数十公里的滨江空间被陆续贯通，旧码头改造成了美术馆和步道。在成都，府南河整治工程把一条臭水沟变成了绿树成荫的公园。
傍晚时分，跑步的年轻人、遛狗的老人和放风筝的孩子在河边相遇，城市生活因此多了几分从容。

## 洪水的提醒

当然，河流并不总是温和的。夏季暴雨可能在几个小时内让水位猛涨，冲毁道路，淹没地铁站。
气候变化使极端降雨更加频繁，单纯依靠加高堤坝已经不够。越来越多的城市开始建设海绵城市，通过屋顶绿化、下沉式广场和地下调蓄池来吸收和暂存雨水。

荷兰人的经验常被引用。他们在经历了多次灾难之后，提出给河流让出空间，把一部分农田改为行洪区，在洪水来临时有序地分流。
这种思路承认自然的力量，不再试图完全控制河流，而是学会与它共处。对于人口密集的亚洲城市来说，如何在有限的土地上借鉴这种做法，仍是一个值得研究的课题。

## 记忆与未来

对许多人而言，河流还承载着私人的记忆。也许是外婆家门前那条小溪，也许是中学放学路上经过的石桥，也许是第一次约会时看到的江面灯火。
这些片段拼在一起，构成了一个人对故乡最深的印象。当河道被填平或改造时，失去的不只是一片水面，还有几代人共同的回忆。

展望未来，城市与河流的关系将更加紧密。水质监测传感器、智能闸门和数字孪生模型可以帮助管理者提前预警，合理调度。
但技术只是手段，真正重要的是态度：把河流当作生命体来尊重，而不是仅仅当作排水渠或者景观装饰。只有这样，流经城市的每一条河才能长久地清澈下去。

## 桥与渡口

有河就有桥。古人用木头搭简易的便桥，用石块砌成拱桥，后来又有了铁索桥和钢筋混凝土大桥。
赵州桥建于一千四百多年前，单孔跨度三十多米，两侧的小拱既减轻了重量，又能在洪水时泄水，体现了工匠们惊人的智慧。

在桥梁还不普及的年代，渡口是两岸往来的关键。摆渡人清晨解开缆绳，把挑担的农民、赶考的书生和走亲戚的妇人送到对岸。
渡口旁边常常有一棵老树、一座小庙和几家卖茶水的摊子，南来北往的消息就在这里交换。许多地名里的“渡”“津”“埠”字，正是这段历史留下的痕迹。

## 水中的生灵

健康的河流是一个完整的生态系统。水草为小鱼提供藏身之处，螺蚌过滤水中的杂质，蜻蜓的幼虫在石缝里慢慢长大。
长江曾经生活着白鱀豚和中华鲟，它们在地球上存在了数百万年，却在短短几十年里因为捕捞、航运和筑坝而濒临消失。

近年来，长江实行十年禁渔，渔民上岸转产，有关部门加强了对非法捕捞的打击。江豚出现的次数明显增多，成了检验治理成效的一个指标。
不过专家提醒，恢复鱼类种群需要很长时间，还要保证洄游通道畅通、产卵场不被破坏，单靠一项措施是远远不够的。

## 诗文里的河

中国文学从一开始就与河流相伴。《诗经》的第一篇就写到河中的沙洲和鸣叫的水鸟，孔子站在岸边感叹时间像流水一样一去不返。
李白写黄河之水天上来，苏轼写大江东去浪淘尽，千百年来，读者在这些句子里感受到的不仅是山川的壮阔，还有人生的短暂与豪情。

近现代作家也常常把河流当作故事的主角。沈从文笔下的湘西小城，吊脚楼依水而建，船工的号子在峡谷里回荡，翠翠在渡船上等待一个也许永远不会回来的人。
这样的描写让一条普通的河有了温度，也让无数读者心生向往，专程去寻找书中的风景。

## 一个普通的早晨

清晨六点，老城区的河边已经有了动静。卖豆浆油条的小店拉开卷帘门，热气从锅里升起来，和河面上的薄雾混在一起。
几位老人在柳树下打太极，动作缓慢而舒展；一个穿校服的女孩背着书包跑过石桥，差点撞上推着三轮车送菜的师傅。

太阳升高以后，游船开始载客，导游举着小旗讲解两岸的老建筑。河道保洁员划着小船，用长柄网兜捞起漂浮的落叶和塑料瓶。
这些寻常的画面没有什么戏剧性，却最能说明一条河与一座城的关系：它不在宏大的规划图上，而在每一个人每天的生活里。

## 结语

回望历史，城市因河而生，因河而兴，也曾因河而衰。今天我们有了更多的知识和工具，也付出过沉重的代价。
站在河边，看着流水不舍昼夜地奔向远方，我们或许能够明白，守护一条河，其实就是守护城市自身的未来。
"""


def test_prose_fixtures_are_long() -> None:
    assert count_words(ENGLISH_PROSE) > 2000
    assert count_words(CHINESE_PROSE) > 2000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   \n\t ", 0),
        ("The quick brown fox.", 4),
        ("don't it’s rock-and-roll", 3),
        ("In 2024, 3.5% of 10,000 people left at 10:30.", 9),
        ("# Title\n\n- item *one*\n- **two**", 4),
        ("!!! ... --- # * - , ; : ( ) [ ] “ ”", 0),
        ("，。！？「」『』（）……", 0),
        ("我爱Python编程", 5),
        ("你好，世界！", 4),
        ("ひらがなカタカナ", 8),
        ("안녕하세요 world", 6),
        ("\u3400\u4db5", 2),
        ("\uf900\ufa0e", 2),
        ("naïve café résumé", 3),
        ("e.g. this", 3),
        ("GPT-4 and Qwen2.5 are models", 5),
        ("２０２４年ＡＩ", 3),
    ],
)
def test_count_words(text: str, expected: int) -> None:
    assert count_words(text) == expected


def test_words_lists_tokens_in_order() -> None:
    assert words("我爱Python编程") == ["我", "爱", "Python", "编", "程"]
    assert words("Don't stop—it's 3.5 km.") == ["Don't", "stop", "it's", "3.5", "km"]


@pytest.mark.parametrize(
    ("ch", "expected"),
    [("中", True), ("ア", True), ("あ", True), ("한", True), ("\u3400", True), ("\uf900", True),
     ("a", False), ("1", False), ("。", False), ("・", False), ("", False), ("中文", False)],
)  # fmt: skip
def test_is_cjk_char(ch: str, expected: bool) -> None:
    assert is_cjk_char(ch) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "en"),
        ("!!!", "en"),
        ("The river runs through the city.", "en"),
        ("河流穿过城市。", "zh"),
        ("Python 是一种编程语言", "zh"),
        ("I visited 北京 last year and loved it", "en"),
        ("a b 中", "zh"),
        ("a b c 中", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_detect_language_on_fixtures() -> None:
    assert detect_language(ENGLISH_PROSE) == "en"
    assert detect_language(CHINESE_PROSE) == "zh"


def test_split_paragraphs() -> None:
    text = "\n\n First line\nsecond line \n\n\n   \n Next \r\n\r\nlast\n"
    assert split_paragraphs(text) == ["First line\nsecond line", "Next", "last"]
    assert split_paragraphs("") == []
    assert split_paragraphs("  \n\n  ") == []


def test_split_sentences_english() -> None:
    text = (
        "Mr. Smith paid $3.5 million, e.g. for land. He left! Did she? "
        '"Yes." Then J. K. Rowling wrote. "Stop!" she said.'
    )
    assert split_sentences(text) == [
        "Mr. Smith paid $3.5 million, e.g. for land.",
        "He left!",
        "Did she?",
        '"Yes."',
        "Then J. K. Rowling wrote.",
        '"Stop!" she said.',
    ]


def test_split_sentences_markdown_blocks_are_boundaries() -> None:
    text = "# Heading\n- item one\n1. item two\n> quoted\nA sentence. Another one\n\nLast"
    assert split_sentences(text) == [
        "# Heading", "- item one", "1. item two", "> quoted", "A sentence.", "Another one", "Last"
    ]  # fmt: skip


def test_split_sentences_soft_line_breaks_do_not_split() -> None:
    text = "The river runs\nthrough the city. It is\nvery old.\n**Bold**\nthen text"
    assert split_sentences(text) == [
        "The river runs\nthrough the city.",
        "It is\nvery old.",
        "**Bold**\nthen text",
    ]


def test_split_sentences_chinese() -> None:
    text = "他说：“你好。”她笑了！真的吗？我不知道；也许吧。最后一句"
    assert split_sentences(text) == [
        "他说：“你好。”",
        "她笑了！",
        "真的吗？",
        "我不知道；也许吧。",
        "最后一句",
    ]
    assert split_sentences("「走吧。」他点点头。") == ["「走吧。」", "他点点头。"]


def test_split_sentences_chinese_semicolons() -> None:
    text = "她笑了；也许吧。"
    assert split_sentences(text, split_semicolons=True) == ["她笑了；", "也许吧。"]
    assert split_sentences(text) == [text]


def test_split_sentences_mixed_and_empty() -> None:
    assert split_sentences("") == []
    assert split_sentences("   ") == []
    assert split_sentences("I like Python.我也喜欢。Really?") == ["I like Python.", "我也喜欢。", "Really?"]


def test_split_sentences_covers_fixture_words() -> None:
    for text in (ENGLISH_PROSE, CHINESE_PROSE):
        sentences = split_sentences(text)
        assert sum(count_words(s) for s in sentences) == count_words(text)
        assert max(count_words(s) for s in sentences) < 80


def test_ngram_repetition() -> None:
    assert ngram_repetition("a b c d a b c d") == pytest.approx(1 / 5)
    assert ngram_repetition("A B C D a b c d") == pytest.approx(1 / 5)
    assert ngram_repetition("我爱你我爱你", n=3) == pytest.approx(1 / 4)
    assert ngram_repetition("one two three four five") == 0.0
    assert ngram_repetition("one two three") == 0.0
    assert ngram_repetition("") == 0.0
    assert ngram_repetition("a a a", n=1) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        ngram_repetition("a b", n=0)


def test_ngram_repetition_low_on_fixtures() -> None:
    assert ngram_repetition(ENGLISH_PROSE) < 0.05
    assert ngram_repetition(CHINESE_PROSE) < 0.1


def test_no_loop_in_varied_prose() -> None:
    assert has_degenerate_loop(ENGLISH_PROSE) is False
    assert has_degenerate_loop(CHINESE_PROSE) is False
    assert has_degenerate_loop("") is False


def test_loop_on_repeated_sentence_tail() -> None:
    looping = ENGLISH_PROSE + "\n\n" + "The kettle kept boiling and boiling in the old kitchen. " * 20
    assert has_degenerate_loop(looping) is True
    assert has_degenerate_loop(CHINESE_PROSE + "我们必须保护河流。" * 30) is True


def test_loop_on_phrase_without_punctuation() -> None:
    looping = ENGLISH_PROSE + " and then the river" * 60
    assert has_degenerate_loop(looping) is True


def test_three_consecutive_sentences_are_a_loop() -> None:
    paragraphs = split_paragraphs(ENGLISH_PROSE)
    repeat = "I will not give up now. "
    three = "\n\n".join(paragraphs[:6]) + "\n\n" + repeat * 3 + "\n\n" + "\n\n".join(paragraphs[6:])
    two = "\n\n".join(paragraphs[:6]) + "\n\n" + repeat * 2 + "\n\n" + "\n\n".join(paragraphs[6:])
    assert has_degenerate_loop(three) is True
    assert has_degenerate_loop(two) is False


def test_short_or_scattered_repeats_are_not_a_loop() -> None:
    paragraphs = split_paragraphs(ENGLISH_PROSE)
    short = "\n\n".join(paragraphs[:6]) + "\n\nYes, I said it. " * 3 + "\n\n".join(paragraphs[6:])
    assert has_degenerate_loop(short) is False
    scattered = "\n\n".join(p + " I will not give up now." for p in paragraphs[:9])
    assert has_degenerate_loop(scattered) is False


def test_loop_on_repeated_long_block() -> None:
    paragraphs = split_paragraphs(ENGLISH_PROSE)
    block = "\n\n".join(paragraphs[9:11])
    assert count_words(block) > 150
    assert has_degenerate_loop("\n\n".join([*paragraphs[:6], block, block])) is False
    assert has_degenerate_loop("\n\n".join([*paragraphs[:6], block, block, block])) is True
    zh_block = "\n\n".join(split_paragraphs(CHINESE_PROSE)[1:3])
    assert count_words(zh_block) > 190
    assert has_degenerate_loop(CHINESE_PROSE + "\n\n" + "\n\n".join([zh_block] * 3)) is True


def test_whole_document_repeated_is_a_loop() -> None:
    assert has_degenerate_loop(ENGLISH_PROSE * 3) is True
    assert has_degenerate_loop(CHINESE_PROSE * 3) is True


def test_loop_threshold_is_respected() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa " * 2
    assert ngram_repetition(text) == pytest.approx(7 / 17)
    assert has_degenerate_loop(text) is False
    assert has_degenerate_loop(text, threshold=0.3) is True


def test_truncate_words_within_limit_is_unchanged() -> None:
    assert truncate_words("Short text here.", 3) == "Short text here."
    assert truncate_words("Short text here.", 100) == "Short text here."
    assert truncate_words("", 5) == ""


def test_truncate_words_prefers_paragraph_boundary() -> None:
    p = "One two three four five. Six seven eight nine ten."
    text = f"{p}\n\n{p}\n\n{p}"
    assert truncate_words(text, 25) == f"{p}\n\n{p}"


def test_truncate_words_falls_back_to_sentence_boundary() -> None:
    text = "One two three four five. Six seven eight nine ten. Eleven twelve thirteen fourteen fifteen."
    assert truncate_words(text, 12) == "One two three four five. Six seven eight nine ten."


def test_truncate_words_skips_paragraph_that_keeps_too_little() -> None:
    text = "Tiny intro here now.\n\n" + " ".join(f"Sentence number {i} is here." for i in range(10))
    result = truncate_words(text, 40)
    assert result.endswith("Sentence number 6 is here.")
    assert count_words(result) == 39


def test_truncate_words_falls_back_to_word_boundary() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve"
    assert truncate_words(text, 7) == "one two three four five six seven"


def test_truncate_words_chinese() -> None:
    text = "第一句话。第二句话。第三句话。"
    assert truncate_words(text, 10) == "第一句话。第二句话。"
    assert truncate_words(text, 7) == "第一句话。第二句"


def test_truncate_words_edge_cases() -> None:
    assert truncate_words("Some words here.", 0) == ""
    with pytest.raises(ValueError):
        truncate_words("Some words here.", -1)


@pytest.mark.parametrize("text", [ENGLISH_PROSE, CHINESE_PROSE], ids=["en", "zh"])
def test_truncate_words_never_exceeds_and_ends_on_sentence(text: str) -> None:
    total = count_words(text)
    for max_words in range(200, total, 97):
        result = truncate_words(text, max_words)
        assert text.startswith(result)
        assert 0.8 * max_words <= count_words(result) <= max_words
        assert ends_cleanly(result)


@pytest.mark.parametrize("text", [ENGLISH_PROSE, CHINESE_PROSE], ids=["en", "zh"])
def test_truncate_words_never_exceeds_small_limits(text: str) -> None:
    for max_words in range(1, 200, 7):
        result = truncate_words(text, max_words)
        assert text.startswith(result)
        assert count_words(result) <= max_words


def test_trim_incomplete_tail() -> None:
    assert trim_incomplete_tail("First sentence. Second one is cut") == "First sentence."
    assert trim_incomplete_tail("First.\n\nThen the story went on and") == "First."
    assert trim_incomplete_tail("他走了。她还在等") == "他走了。"
    assert trim_incomplete_tail("他说：“好。”然后") == "他说：“好。”"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Only a fragment",
        "Done.",
        "A complete one. \n",
        "Intro.\n\n# Chapter Two",
        "Intro.\n\n- an item",
        "# Title\n\nThe story began",
        "“走吧！”",
    ],
)
def test_trim_incomplete_tail_leaves_text_alone(text: str) -> None:
    assert trim_incomplete_tail(text) == text


def test_tail_words_starts_at_sentence() -> None:
    text = "One two three. Four five six seven. Eight nine."
    assert tail_words(text, 6) == "Four five six seven. Eight nine."
    assert tail_words(text, 5) == "five six seven. Eight nine."
    assert tail_words(text, 9) == text
    assert tail_words(text, 50) == text
    assert tail_words(text, 0) == ""
    assert tail_words("甲乙丙。丁戊己庚。辛壬。", 6) == "丁戊己庚。辛壬。"


@pytest.mark.parametrize("text", [ENGLISH_PROSE, CHINESE_PROSE], ids=["en", "zh"])
def test_tail_words_on_fixtures(text: str) -> None:
    tail = tail_words(text, 300)
    assert text.rstrip().endswith(tail)
    assert 150 <= count_words(tail) <= 300
    prefix = text.rstrip()[: -len(tail)]
    assert ends_cleanly(prefix) or prefix.endswith("\n")
    assert split_sentences(tail)[0] in split_sentences(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello.", True),
        ('He said "Stop."', True),
        ("(see above.)", True),
        ("It is **done.**", True),
        ("Wait...", True),
        ("  Hello.  \n", True),
        ("你好。", True),
        ("“走吧！”", True),
        ("真的吗？」", True),
        ("Hello", False),
        ("Hello,", False),
        ("好的，", False),
        ("# Heading", False),
        ("", False),
    ],
)
def test_ends_cleanly(text: str, expected: bool) -> None:
    assert ends_cleanly(text) is expected


def test_cut_at_nearest_sentence_end_may_end_past_the_target_when_nearer():
    from longform.text import cut_at_nearest_sentence_end

    short = "One two three four five. "  # 5 words
    long_sentence = "Word " + " ".join(["word"] * 39) + "."
    text = short * 20 + long_sentence + " Tail without end"  # clean ends at 5, 10, ..., 100, then 140
    assert count_words(cut_at_nearest_sentence_end(text, 52)) == 50
    assert count_words(cut_at_nearest_sentence_end(text, 125)) == 140  # 140 is nearer than 100
    assert count_words(cut_at_nearest_sentence_end(text, 115)) == 100
    assert count_words(cut_at_nearest_sentence_end(text, 500)) == 140  # never keeps the unfinished tail
    assert cut_at_nearest_sentence_end("no end at all", 2) == "no end at all"

-- Free-text search reads a folded copy of each activity's title and
-- summary: lower case, accents removed (store.Fold), written by Record.
-- The API folds the search term the same way and escapes LIKE's
-- wildcards, so "capacitacion" finds "Capacitación" and "%" is literal.
-- A trigram index serves LIKE '%term%' on the column.
ALTER TABLE activities ADD COLUMN search text NOT NULL DEFAULT '';

-- Backfill from the stored snapshots. Removing the combining marks, then
-- mapping each precomposed Latin letter to what store.Fold makes of it,
-- then lower() gives store.Fold's result for Latin-script text (a test
-- holds the two together); a row in another script is folded exactly
-- when it is next recorded.
UPDATE activities SET search = lower(translate(
    regexp_replace(coalesce(snapshot->>'title', '') || ' ' || coalesce(snapshot->>'summary', ''),
        '[\u0300-\u036f]', '', 'g'),
        'ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞàáâãäåçèéêëìíîïñòó' ||
        'ôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĐĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĦĨ' ||
        'ĩĪīĬĭĮįİĲĴĵĶķĹĺĻļĽľĿŁŃńŅņŇňŊŌōŎŏŐőŒŔŕŖŗŘřŚśŜŝŞşŠ' ||
        'šŢţŤťŦŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƁƂƄƆƇƉƊƋƎƏƐƑƓƔƖƗƘƜƝ' ||
        'ƟƠơƢƤƦƧƩƬƮƯưƱƲƳƵƷƸƼǄǅǇǈǊǋǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǢǣǤ' ||
        'ǦǧǨǩǪǫǬǭǮǯǰǱǲǴǵǶǷǸǹǺǻǼǽǾǿȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖ' ||
        'ȗȘșȚțȜȞȟȠȢȤȦȧȨȩȪȫȬȭȮȯȰȱȲȳȺȻȽȾɁɃɄɅɆɈɊɌɎḀḁḂḃḄḅḆḇḈḉ' ||
        'ḊḋḌḍḎḏḐḑḒḓḔḕḖḗḘḙḚḛḜḝḞḟḠḡḢḣḤḥḦḧḨḩḪḫḬḭḮḯḰḱḲḳḴḵḶḷḸḹ' ||
        'ḺḻḼḽḾḿṀṁṂṃṄṅṆṇṈṉṊṋṌṍṎṏṐṑṒṓṔṕṖṗṘṙṚṛṜṝṞṟṠṡṢṣṤṥṦṧṨṩ' ||
        'ṪṫṬṭṮṯṰṱṲṳṴṵṶṷṸṹṺṻṼṽṾṿẀẁẂẃẄẅẆẇẈẉẊẋẌẍẎẏẐẑẒẓẔẕẖẗẘẙ' ||
        'ẛẞẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặẸẹẺẻẼẽẾếỀềỂểỄễỆệỈỉỊịỌọ' ||
        'ỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợỤụỦủỨứỪừỬửỮữỰựỲỳỴỵỶỷỸỹỺỼỾ',
        'aaaaaaæceeeeiiiiðnoooooøuuuuyþaaaaaaceeeeiiiinoo' ||
        'ooouuuuyyaaaaaaccccccccddđeeeeeeeeeegggggggghhħi' ||
        'iiiiiiiiĳjjkkllllllŀłnnnnnnŋooooooœrrrrrrsssssss' ||
        'sttttŧuuuuuuuuuuuuwwyyyzzzzzzɓƃƅɔƈɖɗƌǝəɛƒɠɣɩɨƙɯɲ' ||
        'ɵooƣƥʀƨʃƭʈuuʊʋƴƶʒƹƽǆǆǉǉǌǌaaiioouuuuuuuuuuaaaaææǥ' ||
        'ggkkooooʒʒjǳǳggƕƿnnaaææøøaaaaeeeeiiiioooorrrruuu' ||
        'ussttȝhhƞȣȥaaeeooooooooyyⱥȼƚⱦɂƀʉʌɇɉɋɍɏaabbbbbbcc' ||
        'ddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllll' ||
        'llllmmmmmmnnnnnnnnoooooooopppprrrrrrrrssssssssss' ||
        'ttttttttuuuuuuuuuuvvvvwwwwwwwwwwxxxxyyzzzzzzhtwy' ||
        'ſßaaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeeeiiiioo' ||
        'oooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyyỻỽỿ'
    ));

-- Record always writes the column; without a default, a writer that
-- forgot it would fail rather than store an activity search cannot find.
ALTER TABLE activities ALTER COLUMN search DROP DEFAULT;

CREATE INDEX activities_search ON activities USING gin (search gin_trgm_ops);
DROP INDEX activities_text;

---- create above / drop below ----

CREATE INDEX activities_text ON activities USING gin ((title || ' ' || summary) gin_trgm_ops);
DROP INDEX activities_search;
ALTER TABLE activities DROP COLUMN search;
